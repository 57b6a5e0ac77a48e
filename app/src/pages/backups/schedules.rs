//! Schedules: each namespace's scheduled backups and retention policy, with its next run
//! and last result; set in a dialog that shows the next runs and what the policy would
//! delete before it is saved.

use super::*;
use crate::api::schedules::{
    delete_schedule, list_schedules, pause_schedule, preview_schedule, schedule_time_zones,
    set_schedule,
};
use crate::types::{
    DEFAULT_NAME_TEMPLATE, Retention, RetentionCovers, RunOutcome, ScheduleDraft, ScheduleInfo,
    SchedulePreview,
};

/// How a schedule's times are chosen in the dialog.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Every {
    Hour,
    Day,
    Week,
    Cron,
}

const WEEKDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// The preset an expression was made from, if any: (every, "HH:MM", weekday).
fn preset_of(cron: &str) -> (Every, String, usize) {
    let fields: Vec<&str> = cron.split_whitespace().collect();
    let number = |text: &str, max: u32| text.parse::<u32>().ok().filter(|n| *n <= max);
    match fields.as_slice() {
        ["0", "*", "*", "*", "*"] => (Every::Hour, "02:00".into(), 1),
        [m, h, "*", "*", rest] => match (number(m, 59), number(h, 23)) {
            (Some(m), Some(h)) => {
                let time = format!("{h:02}:{m:02}");
                match *rest {
                    "*" => (Every::Day, time, 1),
                    day => match number(day, 6) {
                        Some(day) => (Every::Week, time, day as usize),
                        None => (Every::Cron, time, 1),
                    },
                }
            }
            _ => (Every::Cron, "02:00".into(), 1),
        },
        _ => (Every::Cron, "02:00".into(), 1),
    }
}

/// The expression a preset stands for.
fn cron_of(every: Every, time: &str, weekday: usize, custom: &str) -> String {
    let (h, m) = time.split_once(':').unwrap_or(("2", "0"));
    let (h, m) = (
        h.trim_start_matches('0').parse::<u32>().unwrap_or(0),
        m.trim_start_matches('0').parse::<u32>().unwrap_or(0),
    );
    match every {
        Every::Hour => "0 * * * *".into(),
        Every::Day => format!("{m} {h} * * *"),
        Every::Week => format!("{m} {h} * * {weekday}"),
        Every::Cron => custom.trim().to_string(),
    }
}

/// A count field of the retention policy: blank is no rule.
fn count(text: &str) -> Option<u32> {
    text.trim().parse().ok()
}

#[component]
pub(super) fn SchedulesSection(namespaces: Signal<Vec<NamespaceInfo>>) -> impl IntoView {
    let console = expect_context::<Console>();
    let hydrated = use_hydrated();
    let version = RwSignal::new(0u32);
    // Read again with the backup list: runs end, and their results change.
    let schedules = Resource::new(
        move || (console.version.get(), version.get()),
        |_| list_schedules(),
    );
    let editing = RwSignal::new(None::<ScheduleDraft>);
    let zones = Resource::new(|| (), |()| schedule_time_zones());
    let add = move |_| {
        let zone = zones
            .get()
            .and_then(Result::ok)
            .map(|(_, zone)| zone)
            .unwrap_or_else(|| "UTC".into());
        editing.set(Some(ScheduleDraft {
            namespace: String::new(),
            cron: "0 2 * * *".into(),
            timezone: zone,
            enabled: true,
            name_template: DEFAULT_NAME_TEMPLATE.into(),
            retention: Retention::default(),
        }));
    };
    view! {
        <section class="card schedules" aria-labelledby="schedules-heading">
            <h2 id="schedules-heading">"Schedules"</h2>
            <p class="hint">"A schedule backs a namespace up by itself and keeps the backups its retention policy names; pinned backups are never deleted."</p>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                    {move || schedules.get().map(|result| result.map(|list| view! {
                        <ScheduleTable list editing on_change=Callback::new(move |()| version.update(|v| *v += 1))/>
                    }))}
                </ErrorBoundary>
            </Transition>
            <button type="button" disabled=move || !hydrated.get() on:click=add>"Add Schedule"</button>
        </section>
        {move || editing.get().map(|draft| view! {
            <ScheduleEditor draft namespaces zones=Signal::derive(move || zones.get().and_then(Result::ok).map(|(list, _)| list).unwrap_or_default())
                on_close=Callback::new(move |saved: bool| {
                    editing.set(None);
                    if saved {
                        version.update(|v| *v += 1);
                    }
                })/>
        })}
    }
}

#[component]
fn ScheduleTable(
    list: Vec<ScheduleInfo>,
    editing: RwSignal<Option<ScheduleDraft>>,
    on_change: Callback<()>,
) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="empty">"No namespace has a schedule yet."</p> }.into_any();
    }
    view! {
        <table class="listing schedule-list">
            <thead>
                <tr>
                    <th scope="col">"Namespace"</th>
                    <th scope="col">"Runs"</th>
                    <th scope="col">"Retention"</th>
                    <th scope="col">"Next Run"</th>
                    <th scope="col">"Last Result"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>
                {list.into_iter().map(|info| view! { <ScheduleRow info editing on_change/> }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn ScheduleRow(
    info: ScheduleInfo,
    editing: RwSignal<Option<ScheduleDraft>>,
    on_change: Callback<()>,
) -> impl IntoView {
    let console = expect_context::<Console>();
    let hydrated = use_hydrated();
    let ns = info.draft.namespace.clone();
    let enabled = info.draft.enabled;
    let toggle = Action::new({
        let ns = ns.clone();
        move |()| pause_schedule(ns.clone(), enabled)
    });
    when_done(toggle, move |shown: ScheduleInfo| {
        let state = if shown.draft.enabled {
            "resumed"
        } else {
            "paused"
        };
        console
            .toasts
            .success(format!("Schedule of {} {state}", shown.draft.namespace));
        on_change.run(());
    });
    let confirm_remove = RwSignal::new(false);
    let remove = Action::new({
        let ns = ns.clone();
        move |()| {
            let ns = ns.clone();
            async move { delete_schedule(ns.clone()).await.map(|()| ns) }
        }
    });
    when_done(remove, move |ns: String| {
        console.toasts.success(format!("Schedule of {ns} removed"));
        on_change.run(());
    });
    let last = match info.last_run.clone() {
        Some(run) => {
            let word = match run.outcome {
                RunOutcome::Running => "Running",
                RunOutcome::Succeeded => "Succeeded",
                RunOutcome::Failed => "Failed",
                RunOutcome::Skipped => "Skipped",
            };
            let why = (run.outcome != RunOutcome::Succeeded).then(|| format!(" — {}", run.detail));
            view! {
                <span class=format!("status status-{}", run.outcome.as_str()) title=run.detail.clone()>{word}</span>
                " "
                <LocalTime at=run.due/>
                <span class="hint">{why}</span>
            }
            .into_any()
        }
        None => view! { <span class="muted">"Not run yet"</span> }.into_any(),
    };
    let draft = info.draft.clone();
    view! {
        <tr class="schedule-row">
            <td>{ns.clone()}</td>
            <td>{info.description.clone()}<br/><span class="hint">{format!("{} ({})", info.draft.cron, info.draft.timezone)}</span></td>
            <td>{info.draft.retention.describe()}</td>
            <td>{match info.next_run {
                Some(at) => view! { <LocalTime at/> }.into_any(),
                None => view! { <span class="muted">"Paused"</span> }.into_any(),
            }}</td>
            <td>{last}</td>
            <td class="actions">
                <button type="button" disabled=move || !hydrated.get()
                    aria-label=format!("Edit the schedule of {ns}")
                    on:click=move |_| editing.set(Some(draft.clone()))>"Edit"</button>
                <button type="button" disabled=move || !hydrated.get() || toggle.pending().get()
                    on:click=move |_| { toggle.dispatch(()); }>
                    {if enabled { "Pause" } else { "Resume" }}
                </button>
                <button type="button" class="danger" disabled=move || !hydrated.get() || remove.pending().get()
                    on:click=move |_| confirm_remove.set(true)>"Remove"</button>
                <ConfirmDialog
                    open=confirm_remove
                    title=format!("Remove the schedule of {}?", info.draft.namespace)
                    message="It makes no more backups. The backups it made stay."
                    confirm_label="Remove"
                    danger=true
                    on_confirm=Callback::new(move |()| { remove.dispatch(()); })
                />
            </td>
        </tr>
    }
}

/// The dialog that sets a schedule: as the fields change, the server previews the draft
/// (its problem, its next five runs, what its policy would delete now); Save is enabled
/// only for a draft the preview found sound.
#[component]
fn ScheduleEditor(
    draft: ScheduleDraft,
    namespaces: Signal<Vec<NamespaceInfo>>,
    zones: Signal<Vec<String>>,
    on_close: Callback<bool>,
) -> impl IntoView {
    let console = expect_context::<Console>();
    let new = draft.namespace.is_empty();
    let (every, time, weekday) = preset_of(&draft.cron);
    let namespace = RwSignal::new(draft.namespace.clone());
    let every = RwSignal::new(every);
    let time = RwSignal::new(time);
    let weekday = RwSignal::new(weekday);
    let custom = RwSignal::new(draft.cron.clone());
    let timezone = RwSignal::new(draft.timezone.clone());
    let template = RwSignal::new(draft.name_template.clone());
    let enabled = RwSignal::new(draft.enabled);
    let show = |n: Option<u32>| n.map(|n| n.to_string()).unwrap_or_default();
    let keep_last = RwSignal::new(show(draft.retention.keep_last));
    let keep_daily = RwSignal::new(show(draft.retention.keep_daily));
    let keep_weekly = RwSignal::new(show(draft.retention.keep_weekly));
    let keep_monthly = RwSignal::new(show(draft.retention.keep_monthly));
    let covers_all = RwSignal::new(draft.retention.covers == RetentionCovers::All);
    let current = Memo::new(move |_| ScheduleDraft {
        namespace: namespace.get(),
        cron: cron_of(every.get(), &time.get(), weekday.get(), &custom.get()),
        timezone: timezone.get(),
        enabled: enabled.get(),
        name_template: template.get(),
        retention: Retention {
            keep_last: count(&keep_last.get()),
            keep_daily: count(&keep_daily.get()),
            keep_weekly: count(&keep_weekly.get()),
            keep_monthly: count(&keep_monthly.get()),
            covers: if covers_all.get() {
                RetentionCovers::All
            } else {
                RetentionCovers::Scheduled
            },
        },
    });
    // The preview of the draft as it is now: asked for a moment after the last change, and
    // kept only while the draft is still the one it was asked for.
    let preview = RwSignal::new(None::<(ScheduleDraft, SchedulePreview)>);
    Effect::new(move |_| {
        let asked = current.get();
        leptos::task::spawn_local(async move {
            sleep(250).await;
            if current.try_get_untracked().as_ref() != Some(&asked) {
                return;
            }
            let answer = match preview_schedule(asked.clone()).await {
                Ok(answer) => answer,
                Err(error) => SchedulePreview {
                    problem: Some(error.to_string()),
                    ..SchedulePreview::default()
                },
            };
            if current.try_get_untracked().as_ref() == Some(&asked) {
                preview.set(Some((asked, answer)));
            }
        });
    });
    let fresh = move || {
        preview
            .get()
            .filter(|(asked, _)| *asked == current.get())
            .map(|(_, answer)| answer)
    };
    let save = Action::new(move |draft: &ScheduleDraft| set_schedule(draft.clone()));
    when_done(save, move |saved: ScheduleInfo| {
        console
            .toasts
            .success(format!("Schedule of {} saved", saved.draft.namespace));
        on_close.run(true);
    });
    let can_save = move || {
        !current.get().namespace.is_empty()
            && fresh().is_some_and(|answer| answer.problem.is_none())
            && !save.pending().get()
    };
    let field = |id: &'static str, label: &'static str, value: RwSignal<String>| {
        view! {
            <div class="field small">
                <label for=id>{label}</label>
                <input id=id type="text" inputmode="numeric" prop:value=value
                    on:input=move |ev| value.set(event_target_value(&ev))/>
            </div>
        }
    };
    view! {
        <FormDialog labelled_by="schedule-title" on_escape=Callback::new(move |()| on_close.run(false))>
            <h2 id="schedule-title">{if new { "Add Schedule" } else { "Edit Schedule" }}</h2>
            <div class="field">
                <label for="schedule-namespace">"Namespace"</label>
                <select id="schedule-namespace" disabled=!new
                    on:change=move |ev| namespace.set(event_target_value(&ev))>
                    <option value="" selected=new>"Choose a namespace"</option>
                    {move || namespaces.get().into_iter().map(|ns| {
                        let selected = ns.name == namespace.get_untracked();
                        view! { <option value=ns.name.clone() selected=selected>{ns.name.clone()}</option> }
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="schedule-every">"Runs"</label>
                <select id="schedule-every" on:change=move |ev| every.set(match event_target_value(&ev).as_str() {
                    "hour" => Every::Hour,
                    "week" => Every::Week,
                    "cron" => Every::Cron,
                    _ => Every::Day,
                })>
                    <option value="hour" selected=move || every.get() == Every::Hour>"Every hour"</option>
                    <option value="day" selected=move || every.get() == Every::Day>"Every day at"</option>
                    <option value="week" selected=move || every.get() == Every::Week>"Every week on"</option>
                    <option value="cron" selected=move || every.get() == Every::Cron>"Cron expression"</option>
                </select>
            </div>
            <Show when=move || every.get() == Every::Week>
                <div class="field">
                    <label for="schedule-weekday">"Day"</label>
                    <select id="schedule-weekday" on:change=move |ev| weekday.set(event_target_value(&ev).parse().unwrap_or(1))>
                        {WEEKDAYS.iter().enumerate().map(|(n, day)| view! {
                            <option value=n.to_string() selected=move || weekday.get() == n>{*day}</option>
                        }).collect_view()}
                    </select>
                </div>
            </Show>
            <Show when=move || matches!(every.get(), Every::Day | Every::Week)>
                <div class="field">
                    <label for="schedule-time">"Time"</label>
                    <input id="schedule-time" type="time" prop:value=time
                        on:input=move |ev| time.set(event_target_value(&ev))/>
                </div>
            </Show>
            <Show when=move || every.get() == Every::Cron>
                <div class="field">
                    <label for="schedule-cron">"Cron expression"</label>
                    <input id="schedule-cron" type="text" spellcheck="false" prop:value=custom
                        placeholder="minute hour day month weekday"
                        on:input=move |ev| custom.set(event_target_value(&ev))/>
                </div>
            </Show>
            <div class="field">
                <label for="schedule-zone">"Time zone"</label>
                <input id="schedule-zone" type="text" list="schedule-zones" prop:value=timezone
                    on:input=move |ev| timezone.set(event_target_value(&ev))/>
                <datalist id="schedule-zones">
                    {move || zones.get().into_iter().map(|zone| view! { <option value=zone/> }).collect_view()}
                </datalist>
            </div>
            <div class="field">
                <label for="schedule-template">"Backup name"</label>
                <input id="schedule-template" type="text" prop:value=template
                    on:input=move |ev| template.set(event_target_value(&ev))/>
                <span class="hint">"{date}, {time} and {namespace} are filled in."</span>
            </div>
            <label class="check">
                <input type="checkbox" prop:checked=enabled on:change=move |ev| enabled.set(event_target_checked(&ev))/>
                "Enabled"
            </label>
            <fieldset class="retention">
                <legend>"Retention (blank: no rule)"</legend>
                <div class="retention-fields">
                    {field("keep-last", "Keep last", keep_last)}
                    {field("keep-daily", "Daily", keep_daily)}
                    {field("keep-weekly", "Weekly", keep_weekly)}
                    {field("keep-monthly", "Monthly", keep_monthly)}
                </div>
                <label class="check">
                    <input type="checkbox" prop:checked=covers_all on:change=move |ev| covers_all.set(event_target_checked(&ev))/>
                    "Also delete backups made by hand or uploaded"
                </label>
            </fieldset>
            <div class="schedule-preview" aria-live="polite">
                {move || match fresh() {
                    None => view! { <p class="muted">"Checking…"</p> }.into_any(),
                    Some(SchedulePreview { problem: Some(problem), .. }) => view! {
                        <p class="hint error" role="alert">{problem}</p>
                    }.into_any(),
                    Some(answer) => view! {
                        <p>{answer.description.clone()}</p>
                        <p class="hint">"Next runs:"</p>
                        <ol class="next-runs">
                            {answer.next_runs.iter().map(|at| view! { <li><LocalTime at=*at/></li> }).collect_view()}
                        </ol>
                        {if answer.deletions.is_empty() {
                            view! { <p class="hint">"The retention policy deletes no backup now."</p> }.into_any()
                        } else {
                            view! {
                                <p class="hint">{format!("The retention policy deletes {} backup(s) after the next run:", answer.deletions.len())}</p>
                                <ul class="deletions">
                                    {answer.deletions.iter().map(|d| view! { <li>{d.name.clone()}</li> }).collect_view()}
                                </ul>
                            }.into_any()
                        }}
                    }.into_any(),
                }}
            </div>
            <div class="dialog-actions">
                <button type="button" on:click=move |_| on_close.run(false)>"Cancel"</button>
                <button type="button" class="primary" disabled=move || !can_save()
                    on:click=move |_| { save.dispatch(current.get_untracked()); }>"Save"</button>
            </div>
        </FormDialog>
    }
}
