"""OCA tier validation (``base_tier_validation``, ``sale_``/``purchase_tier_validation``), 17.0.

**Tier validation** (``tier.definition``, ``tier.review``): a definition (``model_id``,
``definition_domain``, reviewer user or group, ``sequence``, ``approve_sequence``) makes a
document in a "from" state (sale: draft, sent; purchase: draft, sent, to approve) *need
validation*.  ``request_validation`` creates one review per matching definition (numbered
1, 2, ... from the highest definition ``sequence``), pending at once unless approved in
sequence (then only the lowest waits its turn).  ``validate_tier``/``reject_tier`` approve or
reject the current user's reviews (``done_by``, ``reviewed_date``); ``restart_validation``
drops them.  Moving the document to a "to" state (sale: sale; purchase: purchase, approved)
when it needs validation first requests and self-approves what the user may review, then
raises ``ValidationError`` (rolled back, reviews included) unless all are approved; with
reviews open it raises "A validation process is still open"; with reviews and the document
still in a "from" state, writing other fields raises "not allowed to write those fields under
validation".  Cancelling or returning to draft deletes the reviews.
"""

from __future__ import annotations

from typing import Any

from .domain import compile_domain
from .errors import AccessError, ValidationError
from .exceptions import parse_domain, recordset_repr
from .orm import Model, api_records, as_ids, register

# fields anyone may write under validation (``BASE_EXCEPTION_FIELDS`` that sale and purchase have)
UNDER_VALIDATION_ALLOWED = {"message_follower_ids": "Followers", "access_token": "Security Token"}


@register("tier.definition", oca=True)
class TierDefinition(Model):
    _order = "sequence desc, id"
    _rec_name = "name"
    _defaults = {
        "name": "New Tier Validation",
        "review_type": "individual",
        "definition_type": "domain",
        "sequence": 30,
        "company_id": 1,
    }

    def _compute_model(self, row: dict) -> str | bool:
        model = self.env.row("ir.model", row.get("model_id"))
        return model["model"] if model else False

    def create_many(self, vals_list: list[dict]) -> list[int]:
        self._check_settings("create")
        return super().create_many(vals_list)

    @api_records
    def write(self, ids: Any, vals: dict) -> bool:
        self._check_settings("modify")
        return super().write(ids, vals)

    def _check_settings(self, verb: str) -> None:
        if self.env.uid not in (1, 2):
            raise AccessError(
                f"You are not allowed to {verb} 'Tier Definition' (tier.definition) records."
            )


@register("tier.review", oca=True)
class TierReview(Model):
    _order = "id"
    _defaults = {"status": "waiting"}
    RELATED = ("review_type", "reviewer_id", "reviewer_group_id", "has_comment")
    RELATED += ("approve_sequence", "approve_sequence_bypass", "company_id")

    def get(self, row: dict, name: str) -> Any:
        if name in self.RELATED or name == "name":
            definition = self.env.row("tier.definition", row.get("definition_id"))
            if not definition:
                return False if name != "company_id" else row.get("company_id", False)
            return definition[name]
        return super().get(row, name)

    def reviewers(self, row: dict) -> list[int]:
        """``_get_reviewers``: the reviewer and the users of the reviewer group."""
        users = set()
        if self.get(row, "reviewer_id"):
            users.add(self.get(row, "reviewer_id"))
        group = self.env.row("res.groups", self.get(row, "reviewer_group_id"))
        if group:
            users.update(group.get("users") or [])
        return sorted(users)

    def _compute_reviewer_ids(self, row: dict) -> list[int]:
        return self.reviewers(row)

    def _compute_todo_by(self, row: dict) -> str | bool:
        group = self.env.row("res.groups", self.get(row, "reviewer_group_id"))
        if group:
            return f"Group {group['name']}"
        names = [self.env.display_name("res.users", u) for u in self.reviewers(row)]
        text = ", ".join(names[:3])
        return (f"{text} (and {len(names) - 3} more)" if len(names) > 3 else text) or False

    def _compute_display_status(self, row: dict) -> str:
        return row["status"].capitalize()

    def _compute_can_review(self, row: dict) -> bool:
        if row["status"] not in ("pending", "waiting"):
            return False
        if not self.get(row, "approve_sequence"):
            return True
        pending = [
            r["sequence"]
            for r in self.table.values()
            if (r["model"], r["res_id"]) == (row["model"], row["res_id"])
            and r["status"] == "pending"
        ]
        return not pending or row["sequence"] == min(pending)

    def refresh(self, ids: list[int]) -> None:
        """``_compute_can_review``'s side effect: reviews whose turn has come become pending
        (all of them without an approval sequence, the lowest sequence with one)."""
        open_ = [i for i in ids if self.table[i]["status"] in ("waiting", "pending")]
        if not open_:
            return
        lowest = min(self.table[i]["sequence"] for i in open_)
        for i in open_:
            row = self.table[i]
            if not self.get(row, "approve_sequence") or row["sequence"] == lowest:
                self.store(i, {"status": "pending"})


class TierValidated:
    """``tier.validation`` on a document: reviews gate the move to the "to" states."""

    state_from: tuple[str, ...] = ()
    state_to: tuple[str, ...] = ()
    cancel_state = "cancel"

    # ------------------------------------------------------------ reads
    def _reviews(self, doc_id: int) -> list[int]:
        table = self.env.db.tables["tier.review"]
        return sorted(
            i for i, r in table.items() if r["model"] == self._name and r["res_id"] == doc_id
        )

    def _compute_review_ids(self, row: dict) -> list[int]:
        return self._reviews(row["id"])

    def _definitions(self, row: dict) -> list[int]:
        """Active definitions for this model and company, highest sequence first, whose
        domain the document matches (``evaluate_tier``)."""
        defs = self.env["tier.definition"]
        out = []
        for def_id in defs._search([("company_id", "in", [False, row["company_id"]])]):
            definition = defs.table[def_id]
            if defs.get(definition, "model") != self._name:
                continue
            domain = parse_domain(definition.get("definition_domain") or "[]")
            if not domain or compile_domain(self.env, self._name, domain)(row):
                out.append(def_id)
        return out

    def _compute_need_validation(self, row: dict) -> bool:
        return (
            not self._reviews(row["id"])
            and bool(self._definitions(row))
            and row["state"] in self.state_from
        )

    def _compute_validation_status(self, row: dict) -> str:
        table = self.env.db.tables["tier.review"]
        statuses = [table[i]["status"] for i in self._reviews(row["id"])]
        if statuses and all(s == "approved" for s in statuses):
            return "validated"
        for status in ("rejected", "pending", "waiting"):
            if status in statuses:
                return status
        return "no"

    def _compute_validated(self, row: dict) -> bool:
        return self._compute_validation_status(row) == "validated"

    def _compute_rejected(self, row: dict) -> bool:
        return self._compute_validation_status(row) == "rejected"

    def _open_reviews(self, doc_id: int) -> list[dict]:
        table = self.env.db.tables["tier.review"]
        return [
            table[i] for i in self._reviews(doc_id) if table[i]["status"] in ("waiting", "pending")
        ]

    def _sequences_to_approve(self, doc_id: int, uid: int) -> list[int]:
        reviews = self.env["tier.review"]
        all_open = self._open_reviews(doc_id)
        mine = [r for r in all_open if uid in reviews.reviewers(r)]
        out = [r["sequence"] for r in mine if not reviews.get(r, "approve_sequence")]
        in_turn = [r["sequence"] for r in mine if reviews.get(r, "approve_sequence")]
        if in_turn and min(in_turn) <= min(r["sequence"] for r in all_open):
            out.append(min(in_turn))
        return out

    def _compute_can_review(self, row: dict) -> bool:
        return bool(self._sequences_to_approve(row["id"], self.env.uid))

    def _compute_reviewer_ids(self, row: dict) -> list[int]:
        reviews = self.env["tier.review"]
        return sorted({u for r in self._open_reviews(row["id"]) for u in reviews.reviewers(r)})

    def _compute_has_comment(self, row: dict) -> bool:
        reviews = self.env["tier.review"]
        return any(
            reviews.get(r, "has_comment")
            for r in self._open_reviews(row["id"])
            if self.env.uid in reviews.reviewers(r)
        )

    def _compute_next_review(self, row: dict) -> str:
        table = self.env.db.tables["tier.review"]
        pending = [table[i] for i in self._reviews(row["id"]) if table[i]["status"] == "pending"]
        if not pending:
            return ""
        first = min(pending, key=lambda r: r["sequence"])
        return f"Next: {self.env['tier.review'].get(first, 'name')}"

    # ------------------------------------------------------------ actions
    @api_records
    def request_validation(self, ids: Any) -> str:
        reviews = self.env["tier.review"]
        created: list[int] = []
        for doc_id in as_ids(ids):
            row = self.table[doc_id]
            if not self._compute_need_validation(row):
                continue
            for sequence, def_id in enumerate(self._definitions(row), start=1):
                created += reviews.create_many(
                    [
                        {
                            "model": self._name,
                            "res_id": doc_id,
                            "definition_id": def_id,
                            "requested_by": self.env.uid,
                            "sequence": sequence,
                        }
                    ]
                )
        reviews.refresh(created)
        return recordset_repr("tier.review", created)

    def _approve(self, doc_id: int, review_ids: list[int], status: str) -> None:
        reviews = self.env["tier.review"]
        uid = self.env.uid
        if status == "approved":
            for i in review_ids:
                row = reviews.table[i]
                if row["status"] == "waiting" or (
                    reviews.get(row, "approve_sequence_bypass") and uid in reviews.reviewers(row)
                ):
                    reviews.store(i, {"status": "pending"})
        allowed = ("pending",) if status == "approved" else ("waiting", "pending")
        for i in review_ids:
            row = reviews.table[i]
            if row["status"] in allowed and uid in reviews.reviewers(row):
                reviews.write(
                    [i], {"status": status, "done_by": uid, "reviewed_date": self.env.now()}
                )

    def _act(self, ids: Any, status: str) -> dict | None:
        (doc_id,) = self._singleton(ids)
        sequences = self._sequences_to_approve(doc_id, self.env.uid)
        reviews = self.env["tier.review"]
        chosen = [
            i
            for i in self._reviews(doc_id)
            if reviews.table[i]["sequence"] in sequences
            or (status == "approved" and reviews.get(reviews.table[i], "approve_sequence_bypass"))
        ]
        if self._compute_has_comment(self.table[doc_id]):
            return {
                "name": "Comment",
                "type": "ir.actions.act_window",
                "view_mode": "form",
                "res_model": "comment.wizard",
                "target": "new",
                "context": {
                    "default_res_id": doc_id,
                    "default_res_model": self._name,
                    "default_review_ids": chosen,
                    "default_validate_reject": "validate" if status == "approved" else "reject",
                },
            }
        self._approve(doc_id, chosen, status)
        reviews.refresh(self._reviews(doc_id))
        return None

    def _singleton(self, ids: Any) -> list[int]:
        ids = as_ids(ids)
        if len(ids) != 1:
            raise ValueError(f"Expected singleton: {recordset_repr(self._name, ids)}")
        return ids

    @api_records
    def validate_tier(self, ids: Any) -> dict | None:
        return self._act(ids, "approved")

    @api_records
    def reject_tier(self, ids: Any) -> dict | None:
        return self._act(ids, "rejected")

    @api_records
    def restart_validation(self, ids: Any) -> None:
        for doc_id in as_ids(ids):
            if self.table[doc_id]["state"] in self.state_from:
                self.env["tier.review"].unlink(self._reviews(doc_id))

    # ------------------------------------------------------------ write checks
    def _tier_checks(self, ids: list[int], vals: dict) -> None:
        new_state = vals.get("state")
        for doc_id in ids:
            row = self.table[doc_id]
            state = row["state"]
            if state in self.state_from and new_state in self.state_to:
                if self._compute_need_validation(row):
                    self.request_validation([doc_id])
                    self._approve(doc_id, self._reviews(doc_id), "approved")
                    if self._compute_validation_status(row) != "validated":
                        names = [
                            self.env["tier.review"].get(r, "name")
                            for r in self._open_reviews(doc_id)
                            if r["status"] == "pending"
                        ]
                        raise ValidationError(
                            "This action needs to be validated for at least one record. "
                            "Reviews pending:\n - {} \nPlease request a validation.".format(
                                "\n - ".join(names)
                            )
                        )
                if self._reviews(doc_id) and self._compute_validation_status(row) != "validated":
                    raise ValidationError(
                        "A validation process is still open for at least one record."
                    )
            elif (
                self._reviews(doc_id)
                and state in self.state_from
                and new_state not in (*self.state_to, self.cancel_state)
                and not self.env.context.get("skip_validation_check")
                and not self._reviewer_may_write(doc_id)
            ):
                refused = [f for f in vals if f not in UNDER_VALIDATION_ALLOWED]
                if refused:
                    raise ValidationError(
                        "You are not allowed to write those fields under validation.\n"
                        "- {}\n\nOnly those fields can be modified:\n- {}".format(
                            "\n- ".join(self.fields[f].string for f in refused),
                            "\n- ".join(UNDER_VALIDATION_ALLOWED.values()),
                        )
                    )
            if new_state and (
                new_state == self.cancel_state
                or (new_state in self.state_from and state not in self.state_from)
            ):
                self.env["tier.review"].unlink(self._reviews(doc_id))

    def _reviewer_may_write(self, doc_id: int) -> bool:
        reviews = self.env["tier.review"]
        rows = [reviews.table[i] for i in self._reviews(doc_id)]
        defs = self.env.db.tables["tier.definition"]
        return all(  # a deleted definition's review counts for nothing here
            defs[r["definition_id"]]["allow_write_for_reviewer"] for r in rows if r["definition_id"]
        ) and self.env.uid in self._compute_reviewer_ids(self.table[doc_id])

    def _drop_reviews(self, ids: list[int]) -> None:
        reviews = self.env["tier.review"]
        reviews.unlink([r for i in ids for r in self._reviews(i)])
