"""Imported labels are usable in segments: a campaign aimed at a label reaches the
confirmed subscribers carrying it, and nobody else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from membership.errors import InvalidInput
from membership.extensions import db
from membership.identity.models import Reader, ReaderLabel
from membership.newsletters.campaigns import create_campaign
from membership.newsletters.deliveries import create_deliveries
from membership.newsletters.models import Delivery, Newsletter, Segment
from membership.newsletters.segments import recipients


def test_a_campaign_can_target_an_imported_label(app: Flask, db_session: Any, catalogue: None,
                                                 tmp_path: Path) -> None:
    path = tmp_path / "ghost.csv"
    path.write_text("email,subscribed_to_emails,labels,tiers\n"
                    "vip@example.org,true,\"VIP, print\",\n"
                    "gold@example.org,true,,Gold\n"
                    "quiet-vip@example.org,false,VIP,\n"
                    "plain@example.org,true,,\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["members", "import", str(path), "--from", "ghost"])
    assert result.exit_code == 0, result.output
    daily = db.session.scalar(select(Newsletter).where(Newsletter.slug == "daily"))
    assert daily is not None

    def emails(label: str) -> set[str]:
        return {email for _, email in db.session.execute(recipients(daily.id, Segment.LABEL, label=label))}

    assert emails("VIP") == {"vip@example.org"}  # quiet-vip never opted in
    assert emails("tier:Gold") == {"gold@example.org"}
    assert emails("nobody") == set()

    campaign = create_campaign(daily.id, "For our VIPs", "<p>Hi</p>", segment=Segment.LABEL, segment_label="VIP")
    assert create_deliveries(campaign) == 1
    assert db.session.scalars(select(Delivery.email).where(Delivery.campaign_id == campaign.id)).all() == [
        "vip@example.org"]
    with pytest.raises(InvalidInput):
        create_campaign(daily.id, "No label", "<p>Hi</p>", segment=Segment.LABEL)


def test_erasure_removes_labels_and_the_note(app: Flask, db_session: Any, tmp_path: Path) -> None:
    from membership.readers.privacy import erase

    path = tmp_path / "ghost.csv"
    path.write_text("email,note,labels\nann@example.org,likes print,VIP\n", encoding="utf-8")
    assert app.test_cli_runner().invoke(args=["members", "import", str(path), "--from", "ghost"]).exit_code == 0
    ann = db.session.scalar(select(Reader).where(Reader.email == "ann@example.org"))
    assert ann is not None and ann.note == "likes print"
    erase(ann)
    assert ann.note == "" and db.session.scalars(select(ReaderLabel)).all() == []
