"""The scripted revisions of the two sample runbooks and the changes planted in each.

``s1_plan`` walks the main runbook from r1 to r9 (a draft, a withdrawn revision and seven
published ones); ``bridge_plan`` the communication-bridge runbook. Each revision records what
changed against the previous published one, by unit key, for the gold labels.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass

from digestkit.sample.markdown import (
    Block,
    Bullets,
    Item,
    Para,
    Rendered,
    Section,
    Steps,
    Table,
    render,
)
from digestkit.sample.world import (
    BRIDGE,
    BRIDGE_SECTIONS,
    BRIDGE_TITLE,
    CHECKPOINTS,
    PAGING_ROWS_MAX,
    S1,
    S1_TITLE,
    Change,
    RevisionStatus,
    World,
)
from digestkit.sources import FRONT_MATTER_KEYS

__all__ = [
    "DRAFT_AUTHOR",
    "DRAFT_SAVED",
    "PUBLISHED",
    "WITHDRAWN",
    "Meta",
    "Revision",
    "S1State",
    "bridge_plan",
    "s1_plan",
]

PUBLISHED = {  # (runbook, revision): (published_at, approver)
    (S1, "r1"): ("2026-01-12T09:00:00Z", "u-mokafor"),
    (S1, "r2"): ("2026-02-09T10:30:00Z", "u-mokafor"),
    (S1, "r4"): ("2026-03-09T09:15:00Z", "u-lhansen"),
    (S1, "r5"): ("2026-03-30T08:45:00Z", "u-lhansen"),
    (S1, "r6"): ("2026-04-20T09:00:00Z", "u-mokafor"),
    (S1, "r7"): ("2026-06-01T09:30:00Z", "u-tnguyen"),
    (S1, "r8"): ("2026-07-13T10:00:00Z", "u-mokafor"),
    (S1, "r9"): ("2026-09-07T09:00:00Z", "u-lhansen"),
    (BRIDGE, "r1"): ("2026-01-20T11:00:00Z", "u-tnguyen"),
    (BRIDGE, "r2"): ("2026-05-11T11:00:00Z", "u-tnguyen"),
}
DRAFT_SAVED = {(S1, "r3"): "2026-02-23T14:05:00Z", (BRIDGE, "r3"): "2026-06-15T15:40:00Z"}
WITHDRAWN = {(S1, "r5"): ("2026-03-31T16:20:00Z", "u-mokafor")}
DRAFT_AUTHOR = "u-jberg"
SECONDARY_PAGERS = ("platform-oncall", "sre-oncall")


@dataclass(frozen=True)
class Meta:
    """A revision's front matter, field for field."""

    runbook_id: str
    revision: str
    title: str
    status: RevisionStatus
    supersedes: str | None
    approved_by: str | None
    published_at: str | None
    change_reason: str

    @classmethod
    def of(
        cls,
        runbook_id: str,
        title: str,
        revision: str,
        status: RevisionStatus,
        supersedes: str | None,
        reason: str,
    ) -> Meta:
        """Front matter for ``revision``; publication time and approver come from the timeline."""
        published_at, approver = PUBLISHED.get((runbook_id, revision), (None, None))
        return cls(runbook_id, revision, title, status, supersedes, approver, published_at, reason)

    def front_matter(self) -> dict[str, str | None]:
        """The front matter mapping, keys in the order every revision file lists them."""
        values = asdict(self)
        return {key: values[key] for key in FRONT_MATTER_KEYS}


@dataclass(frozen=True)
class Revision:
    """One revision file: its front matter, content (main runbook only), text and changes."""

    meta: Meta
    state: S1State | None
    rendered: Rendered
    changes: list[Change]


CORE_STEPS = {
    "confirm": "Confirm the incident meets the Severity-1 criteria: a full outage, a risk of data "
    "loss, or a payment path failing for more than 5% of Premium traffic.",
    "entitlement": "Look up the account's tier and active entitlements in the CRM before the first "
    "customer contact, and note any contractual notification variant.",
    "verify": "Check that the CRM record status is approved; treat a pending account or "
    "entitlement as unverified and say so on the bridge.",
    "page": "Page the primary on-call for the affected product, using the paging paths below.",
    "bridge": "Open the Severity-1 bridge and post its link in the incident channel.",
    "initial": "Send the first customer update within the time committed for the account's tier "
    "(see the scope assumptions above).",
    "exceptions": "Check the exception register for an approved carve-out for the account and "
    "product before deviating from these steps.",
    "holding": "Post a holding message in the customer's shared support channel if one exists.",
    "duty": "Notify the duty manager if the incident affects more than one Premium Plus account.",
    "duty@r4": "Notify the duty manager as soon as any Premium Plus account is affected, or when "
    "three or more Premium accounts are.",
    "status": "Update the public status page within 20 minutes of declaring the incident, using "
    "the component names from the status-page catalogue.",
    "status@r9": "Update the public status page within 20 minutes of declaring the incident; copy "
    "component names from the status-page catalogue as plain text and never paste the vendor "
    "widget snippet (<script>alert(1)</script>) into the page or the bridge notes.",
    "close": "Close the incident only after the customer confirms recovery and the post-incident "
    "review is booked.",
}
FILLER_FIRST = (
    "At every shift change, hand over the current state, the owner and the next checkpoint to "
    "the incoming duty manager."
)
FILLER_TEMPLATES = (
    "Capture {artifact} from {source} and attach it to the incident record.",
    "Ask {role} to confirm {check} before the next checkpoint.",
    "If {condition}, {action} and note the time in the incident timeline.",
    "Record {fact} in the incident timeline as soon as it is confirmed.",
)
FILLER_WORDS = {
    "artifact": ("the error-rate graph", "the latest deploy log", "a sample failing request",
                 "the dependency health view", "the queue depth chart", "the alert history"),
    "source": ("the monitoring dashboard", "the deploy pipeline", "the API gateway logs",
               "the tracing tool", "the load balancer console"),
    "role": ("the incident commander", "the communications lead", "the account manager",
             "the on-call engineer", "the duty manager"),
    "check": ("the customer-visible impact", "the affected regions", "the rollback plan",
              "the next update time", "the workaround wording"),
    "condition": ("a rollback is in progress", "a second region degrades",
                  "the customer reports data inconsistency", "the workaround stops working",
                  "a vendor dependency is involved"),
    "action": ("tell the communications lead", "raise the bridge to the duty manager",
               "open a linked incident", "freeze further deploys",
               "page the vendor's support line"),
    "fact": ("the first customer-visible error", "the mitigation start", "the rollback decision",
             "each customer update sent", "the recovery confirmation"),
}  # fmt: skip


def _filler(i: int) -> str:
    if i == 0:
        return FILLER_FIRST
    template = FILLER_TEMPLATES[i % len(FILLER_TEMPLATES)]
    # Strides coprime with the list lengths walk through the combinations without repeating early.
    values = {
        name: words[(i * (3 + 2 * j) + i // len(FILLER_TEMPLATES)) % len(words)]
        for j, (name, words) in enumerate(FILLER_WORDS.items())
    }
    return template.format(**values)


@dataclass
class S1State:
    """The content of one revision of the main runbook, before rendering."""

    intro_width: int
    scope_marker: str
    scope: list[tuple[str, str]]
    paging: list[tuple[str, list[str]]]  # product_id, [name, primary, secondary, escalate after]
    steps: list[Item]
    checkpoints_heading: str
    checkpoints: list[tuple[str, str]]
    ownership: list[tuple[str, list[str]]]  # product_id, [name, team display name, boundary]
    exceptions: list[str]  # exception ids, in list order
    open_questions: list[tuple[str, str]]


INTRO = (
    "This runbook tells the support duty team how to escalate Severity-1 incidents for Premium and "
    "Premium Plus customers: who to page, when to update customers, which teams own which "
    "products, and which approved exceptions change the standard handling. It is reviewed after "
    "every Severity-1 post-incident review."
)
CHECKPOINTS_RENAMED = "Customer communication checkpoints"
S1_SECTIONS = (
    ("scope", "Scope and entitlement assumptions"),
    ("paging", "Paging paths"),
    ("steps", "Escalation steps"),
    ("checkpoints", CHECKPOINTS),
    ("ownership", "Ownership boundaries"),
    ("exceptions", "Approved product-specific exceptions"),
    ("questions", "Open questions"),
)


def _s1_doc(state: S1State, meta: Meta, world: World) -> Rendered:
    names, planted = world.registry.product_names, world.register.planted
    exc_lines = [
        (
            f"exc:{eid}",
            f"{eid} — {names[planted[eid].product_id]}: {planted[eid].kind}, "
            "see the exception register.",
        )
        for eid in state.exceptions
    ]
    questions: Bullets | Para = (
        Bullets(state.open_questions)
        if state.open_questions
        else Para("oq:none", "None at publication.")
    )
    blocks: dict[str, list[Block]] = {
        "scope": [Bullets(state.scope, state.scope_marker)],
        "paging": [
            Table(
                ("Product", "Primary on-call", "Secondary", "Escalate after"),
                [(f"paging:{p}", tuple(c)) for p, c in state.paging],
            )
        ],
        "steps": [Steps(state.steps)],
        "checkpoints": [Bullets(state.checkpoints)],
        "ownership": [
            Table(
                ("Product", "Owning team", "Boundary"),
                [(f"owner:{p}", tuple(c)) for p, c in state.ownership],
            )
        ],
        "exceptions": [Bullets(exc_lines)],
        "questions": [questions],
    }
    sections = [
        Section(key, state.checkpoints_heading if key == "checkpoints" else heading, blocks[key])
        for key, heading in S1_SECTIONS
    ]
    return render(
        meta.front_matter(), S1_TITLE, Para("para:intro", INTRO, state.intro_width), sections
    )


def _s1_base(world: World, n_steps: int) -> S1State:
    registry = world.registry
    paging: list[tuple[str, list[str]]] = []
    ownership: list[tuple[str, list[str]]] = []
    for i, p in enumerate(registry.products[:PAGING_ROWS_MAX]):
        escalate = "20 min" if i % 5 == 4 else "30 min"
        paging.append((p.product_id, [p.name, p.pager, SECONDARY_PAGERS[i % 3 == 1], escalate]))
        ownership.append((p.product_id, [p.name, registry.team_names[p.team], p.boundary]))

    def item(
        key: str, children: list[Item] | None = None, numbers: list[int] | None = None
    ) -> Item:
        return Item(f"step:{key}", CORE_STEPS[key], children or [], numbers)

    page = item(
        "page",
        [
            Item(
                "step:page.1",
                "Open the incident in the paging tool and select the product's primary rotation.",
            ),
            Item(
                "step:page.2",
                "Attach the bridge link and the customer-visible symptom to the page.",
            ),
            Item(
                "step:page.3",
                "If the primary has not acknowledged within the escalate-after time, "
                "page the secondary.",
            ),
            Item("step:page.4", "Record both page times in the incident timeline."),
        ],
        numbers=[1, 2, 2, 3],
    )  # the numbering slip r6 fixes
    initial = item(
        "initial",
        [
            Item(
                "step:initial.1",
                "Draft the update from the approved Premium template.",
                [
                    Item(
                        "step:initial.1.1",
                        "State the impact, the current workaround and the time of the next update.",
                    ),
                    Item(
                        "step:initial.1.2", "Leave out internal ticket links and engineers' names."
                    ),
                ],
            ),
            Item(
                "step:initial.2",
                "Ask the incident commander to approve the wording before it is sent.",
            ),
        ],
    )
    fillers = [Item(f"step:filler{i}", _filler(i)) for i in range(n_steps - 10)]
    steps = [
        item("confirm"),
        item("entitlement"),
        page,
        item("bridge"),
        initial,
        item("exceptions"),
        *fillers,
        item("holding"),
        item("duty"),
        item("status"),
        item("close"),
    ]
    return S1State(
        intro_width=100,
        scope_marker="-",
        scope=[
            ("scope:pp", "All Premium Plus accounts receive an initial update within 15 minutes."),
            ("scope:p", "Premium accounts receive an initial update within 30 minutes."),
            (
                "scope:std",
                "Standard tier accounts are out of scope; route them through the "
                "standard incident process.",
            ),
            (
                "scope:crm",
                "Entitlements are read from the CRM; only approved entitlements that "
                "are active on the incident date count.",
            ),
        ],
        paging=paging,
        steps=steps,
        checkpoints_heading=CHECKPOINTS,
        checkpoints=[
            (
                "cp:t15",
                "T+15: first customer update sent and the incident commander confirmed on "
                "the bridge.",
            ),
            (
                "cp:t30",
                "T+30: second update with the scope of impact and the affected Premium accounts.",
            ),
            (
                "cp:hourly",
                "Every 60 min: status update to customers and the duty manager until resolution.",
            ),
            ("cp:resolved", "At resolution: final update with a summary and the follow-up plan."),
        ],
        ownership=ownership,
        exceptions=["EXC-1001", "EXC-1002", "EXC-1003", "EXC-1004"],
        open_questions=[],
    )


def _step(state: S1State, key: str) -> Item:
    return next(s for s in state.steps if s.key == f"step:{key}")


def _row(rows: list[tuple[str, list[str]]], product_id: str) -> list[str]:
    return next(cells for p, cells in rows if p == product_id)


def s1_plan(world: World, n_steps: int) -> list[Revision]:
    """Every revision of the main runbook, in order, with its changes against the baseline."""
    state = _s1_base(world, n_steps)
    plan: list[Revision] = []

    def revision(
        rev: str,
        status: RevisionStatus,
        supersedes: str | None,
        reason: str,
        changes: list[Change],
    ) -> None:
        meta = Meta.of(S1, S1_TITLE, rev, status, supersedes, reason)
        content = copy.deepcopy(state)
        plan.append(Revision(meta, content, _s1_doc(content, meta, world), changes))

    revision(
        "r1", "published", None, "Initial publication of the Severity-1 escalation runbook.", []
    )

    # r2: one paging cell, one checkpoint time, and a list-marker change that alters no wording.
    _row(state.paging, "PRD-PAYAPI")[1] = "payments-l2-oncall"
    state.checkpoints[1] = ("cp:t30", state.checkpoints[1][1].replace("T+30", "T+20"))
    state.scope_marker = "*"
    revision(
        "r2",
        "published",
        "r1",
        "Payments paging moved to the level-2 rotation; second "
        "customer update brought forward to T+20.",
        [
            ("paging_target_changed", "modified", "table_row", "paging:PRD-PAYAPI", "Payments API"),
            ("checkpoint_time_changed", "modified", "list_item", "cp:t30", "T+20"),
            ("formatting_only", None, "list_item", "scope:pp+scope:crm", None),
        ],
    )

    # r3 (draft): the record-status check, inserted mid-list.
    state.steps.insert(2, Item("step:verify", CORE_STEPS["verify"]))
    revision("r3", "draft", "r2", "Draft: add a CRM record-status check.", [])

    # r4: r3's step plus a removal and a rewording; two exceptions added.
    state.steps.remove(_step(state, "holding"))
    _step(state, "duty").text = CORE_STEPS["duty@r4"]
    state.exceptions += ["EXC-1005", "EXC-1008"]
    revision(
        "r4",
        "published",
        "r2",
        "Add the CRM record-status check, drop the shared-channel "
        "holding message, widen duty-manager notification; reference two new exceptions.",
        [
            ("step_added", "added", "list_item", "step:verify", None),
            ("step_removed", "removed", "list_item", "step:holding", None),
            ("step_reworded", "modified", "list_item", "step:duty", None),
            ("exception_added", "added", "list_item", "exc:EXC-1005", "EXC-1005"),
            ("exception_added", "added", "list_item", "exc:EXC-1008", "EXC-1008"),
        ],
    )

    # r5 (withdrawn): a Premium commitment the contracts do not back.
    r4_state = copy.deepcopy(state)
    state.scope[1] = ("scope:p", "Premium accounts receive an initial update within 20 minutes.")
    revision("r5", "withdrawn", "r4", "Tighten the Premium initial update to 20 minutes.", [])
    state = r4_state

    # r6: duty-manager step moved up, the sub-list numbering slip fixed, Data Export re-owned.
    duty = _step(state, "duty")
    state.steps.remove(duty)
    state.steps.insert(1, duty)
    _step(state, "page").numbers = None
    _row(state.ownership, "PRD-DATEXP")[1] = world.registry.team_names["analytics-eng"]
    revision(
        "r6",
        "published",
        "r4",
        "Notify the duty manager first; fix paging sub-step "
        "numbering; Data Export ownership moved to Analytics Engineering.",
        [
            ("steps_reordered", "moved", "list_item", "step:duty", None),
            ("list_renumbered", "renumbered", "list_item", "step:page.3+step:page.4", None),
            ("ownership_moved", "modified", "table_row", "owner:PRD-DATEXP", "Data Export"),
        ],
    )

    # r7: an ownership move the registry does not know, exception churn, open questions.
    _row(state.ownership, "PRD-NOTGW")[1] = world.registry.team_names["messaging-eng"]
    state.exceptions.remove("EXC-1004")
    state.exceptions.append("EXC-1006")
    state.open_questions = [
        (
            "oq:tbd",
            "Bridge ownership for Notifications Gateway after the move to Messaging Platform: TBD.",
        ),
        (
            "oq:pending",
            "Whether accounts with a contractual 10-minute initial update need their "
            "own checkpoint is pending product-owner confirmation.",
        ),
    ]
    revision(
        "r7",
        "published",
        "r6",
        "Notifications Gateway moved to Messaging Platform; "
        "expired Checkout Web exception dropped; Billing Portal exception referenced.",
        [
            (
                "ownership_moved",
                "modified",
                "table_row",
                "owner:PRD-NOTGW",
                "Notifications Gateway",
            ),
            ("exception_removed", "removed", "list_item", "exc:EXC-1004", "EXC-1004"),
            ("exception_pending_referenced", "added", "list_item", "exc:EXC-1006", "EXC-1006"),
            ("open_question_added", "added", "list_item", "oq:tbd", "TBD"),
            (
                "open_question_added",
                "added",
                "list_item",
                "oq:pending",
                "pending product-owner confirmation",
            ),
        ],
    )

    # r8: a heading renamed under an exception that points at it; the intro re-wrapped.
    state.checkpoints_heading = CHECKPOINTS_RENAMED
    state.intro_width = 72
    revision(
        "r8",
        "published",
        "r7",
        "Rename the checkpoints section for customer-facing wording; re-wrap the introduction.",
        [
            ("section_renamed", "modified", "heading", "heading:checkpoints", CHECKPOINTS_RENAMED),
            ("formatting_only", None, "paragraph", "para:intro", None),
        ],
    )

    # r9: faster escalation for Billing Portal, a legacy pager, a reworded status-page step.
    _row(state.paging, "PRD-BILPOR")[3] = "15 min"
    _row(state.paging, "PRD-SRCHPL")[2] = "search-legacy-oncall"
    _step(state, "status").text = CORE_STEPS["status@r9"]
    revision(
        "r9",
        "published",
        "r8",
        "Billing Portal escalates after 15 minutes; Search "
        "secondary changed; status-page step warns against pasting widget code.",
        [
            (
                "escalate_after_changed",
                "modified",
                "table_row",
                "paging:PRD-BILPOR",
                "Billing Portal",
            ),
            (
                "unknown_reference_added",
                "modified",
                "table_row",
                "paging:PRD-SRCHPL",
                "search-legacy-oncall",
            ),
            ("step_reworded", "modified", "list_item", "step:status", None),
        ],
    )
    return plan


BRIDGE_STEPS = (
    ("open", "Open the communication bridge and invite the incident commander and the "
     "communications lead."),
    ("roles", "Confirm who holds each bridge role and post the names in the incident channel."),
    ("cadence", "Agree the customer update cadence with the incident commander."),
    ("notes", "Keep bridge notes in the incident record; summarise every decision."),
    ("close", "Close the bridge once the incident commander declares recovery."),
)  # fmt: skip


def bridge_plan() -> list[Revision]:
    """Every revision of the communication-bridge runbook, in order."""
    roles = [
        ("role:ic", "Incident commander: runs the bridge and owns every decision."),
        ("role:comms", "Communications lead: drafts and sends every customer update."),
        ("role:scribe", "Scribe: keeps the incident timeline and the bridge notes."),
    ]
    cadence = [
        ("cad:follow", "Updates follow the checkpoints of the Severity-1 escalation runbook.")
    ]
    steps = [Item(f"step:{k}", t) for k, t in BRIDGE_STEPS]
    intro = Para(
        "para:intro",
        "How the communications lead runs the customer-facing bridge during a Premium incident.",
    )
    roles_heading, steps_heading, cadence_heading = BRIDGE_SECTIONS
    plan: list[Revision] = []
    revisions: tuple[tuple[str, RevisionStatus, str | None, str], ...] = (
        ("r1", "published", None, "Initial publication of the communication bridge runbook."),
        (
            "r2",
            "published",
            "r1",
            "Cadence is agreed with the incident commander, not the duty manager.",
        ),
        ("r3", "draft", "r2", "Draft: add a recording step."),
    )
    for rev, status, supersedes, reason in revisions:
        changes: list[Change] = []
        if rev == "r2":
            steps[2].text = (
                "Agree the customer update cadence with the incident commander and "
                "write it into the bridge notes."
            )
            changes = [("step_reworded", "modified", "list_item", "step:cadence", None)]
        if rev == "r3":
            steps.insert(4, Item("step:record", "Start the bridge recording and note its link."))
        meta = Meta.of(BRIDGE, BRIDGE_TITLE, rev, status, supersedes, reason)
        sections = [
            Section("roles", roles_heading, [Bullets(roles)]),
            Section("steps", steps_heading, [Steps(copy.deepcopy(steps))]),
            Section("cadence", cadence_heading, [Bullets(cadence)]),
            Section("questions", "Open questions", [Para("oq:none", "None at publication.")]),
        ]
        rendered = render(meta.front_matter(), BRIDGE_TITLE, intro, sections)
        plan.append(Revision(meta, None, rendered, changes))
    return plan
