"""Hunting-query cards: the seed card, the published table variants, and broken cards."""

from __future__ import annotations

import hashlib
import re

import pytest

from pipeline.ingest.detections import cards
from pipeline.ingest.detections.corpus import load_source

from detection_helpers import corpus_files, ctx_for, source_for, write

SEED_CARD = "T1046 Network Service Scanning.md"


def parse(text: str, relpath: str = "Discovery/card.md"):
    ctx = ctx_for("hunting-cards", relpath)
    return cards.parse(text.encode("utf-8"), ctx), ctx.issues


def table(rows: list[str], lead: bool = True) -> str:
    head = ["| Technique, tactic, or state | Covered? (v=yes) | Notes |", "|-|-|-|"]
    if not lead:
        head = ["Technique, tactic, or state | Covered? (v=yes) | Notes", "-|-|-"]
    return "\n".join(head + rows)


@pytest.mark.realdata
def test_seed_card_has_three_kusto_queries_and_discovery_with_the_technique_link(mirror):
    path = mirror / "detections" / "cards" / SEED_CARD
    ctx = ctx_for("hunting-cards", SEED_CARD, name="cards")
    [card] = cards.parse(path.read_bytes(), ctx)
    assert ctx.issues == []
    assert card.title == "T1046 Network Service Scanning"
    assert card.id == "cards:" + hashlib.sha256(SEED_CARD.encode()).hexdigest()[:16]
    assert [q.language for q in card.queries] == ["kql", "kql", "kql"]
    blocks = re.findall(r"```Kusto\n(.*?)```", path.read_text(), re.S)
    assert [q.text for q in card.queries] == [b.strip("\n") for b in blocks]
    assert [q.label for q in card.queries] == [
        "Find high count of outgoing connection requests on different ports (like when using nmap)",
        "port scanning Alerts",
        "port scanning Alerts",
    ]
    [tactic] = card.tactics
    assert (tactic.shortname, tactic.how, tactic.note) == ("discovery", "table", "https://attack.mitre.org/techniques/T1046/")
    assert [(t.attack_id, t.how) for t in card.techniques] == [("T1046", "title")]
    assert card.authors == ("Alex Verboon",)
    assert card.description.startswith("Adversaries may attempt to get a listing of services")
    assert card.data_sources == ("DeviceAlertEvents", "DeviceNetworkEvents")


@pytest.mark.realdata
def test_m365_corpus_counts_match_an_independent_count(mirror, by_source):
    root = mirror / "detections" / "m365-hunting-queries"
    files = [p for p in corpus_files(root, (".md", ".txt")) if p.name.lower() != "readme.md"]
    # Cards are every file but empty ones and the submission template (a `< … >` title).
    expected = [p for p in files if p.read_text(encoding="utf-8").strip() and not re.search(r"^# *<.*>\s*$", p.read_text(), re.M)]
    got = {d.path: d for d in by_source["m365-hunting-queries"]}
    assert len(got) == len(expected)
    assert sorted(got) == sorted(p.relative_to(root).as_posix() for p in expected)
    named = re.compile(r"(?<![\w/.-])T\d{4}(\.\d{3})?\b|attack\.mitre\.org/(techniques|wiki/Technique)/T\d{4}")
    assert sum(1 for d in got.values() if d.techniques) == sum(1 for p in expected if named.search(p.read_text()))
    fences = sum(len(re.findall(r"^\s*```", p.read_text(), re.M)) // 2 for p in expected if p.suffix == ".md")
    unfenced = sum(1 for p in expected if p.suffix == ".md" and "```" not in p.read_text())
    assert sum(len(d.queries) for d in got.values() if d.path.endswith(".md")) == fences + unfenced
    assert all(d.queries for d in got.values())
    # Every marked tactic row is read: count marks in rows naming a tactic, card by card.
    row = re.compile(r"^\|? *(Initial access|Execution|Persistence|Privilege escalation|Defense evasion|Credential Access"
                     r"|Discovery|Lateral movement|Collection|Command and control|Exfiltration|Impact) *\| *[vVxXy] *\|", re.M)
    for p in expected:
        if p.suffix == ".md":
            marked = {m.group(1).lower() for m in row.finditer(p.read_text())}
            table = {t.shortname.replace("-", " ") for t in got[p.relative_to(root).as_posix()].tactics if t.how == "table"}
            assert table == marked, p


@pytest.mark.realdata
def test_m365_table_variants_are_all_read(mirror, by_source):
    got = {d.path: d for d in by_source["m365-hunting-queries"]}
    no_lead = got["Campaigns/Sysrv-botnet/app-armor-stopped.md"]
    assert [t.shortname for t in no_lead.tactics] == ["execution"]
    assert no_lead.tags == ("Malware, component",)
    twenty = got["Exploits/CVE-2021-36934 usage detection.md"]  # 20 rows, marks y and v, rows repeated
    assert [t.shortname for t in twenty.tactics] == ["privilege-escalation"]
    assert twenty.tags == ("Exploit",)
    upper_x = got["Discovery/Detect-Not-Active-AD-User-Accounts.md"]
    assert [t.shortname for t in upper_x.tactics] == ["credential-access", "discovery"]
    link = got["Initial access/SuspiciousUrlClicked.md"]
    assert [(t.attack_id, t.how) for t in link.techniques] == [("T1566.002", "link")]
    bare = got["Defense evasion/ADFSDomainTrustMods[Nobelium].md"]
    assert [t.attack_id for t in bare.techniques] == ["T1484.002"]
    unfenced = got["Initial access/identify-potential-missed-phishing-email-campaigns.md"]
    assert unfenced.queries[0].text.startswith("EmailEvents")
    level_two_title = got["Email Queries/JNLP-File-Attachment.md"]
    assert level_two_title.title == "JNLP File Attachments"
    raw = got["Command and Control/Tor.txt"]
    assert raw.tags == ("Tor", "MultiHopProxy", "CnC")
    assert [t.attack_id for t in raw.techniques] == ["T1188"]
    assert raw.attack_objects == ("S0183", "S0175")
    assert [(t.shortname, t.how) for t in raw.tactics] == [("command-and-control", "folder")]


def test_marks_rows_and_leading_pipes():
    rows = [
        "| Initial access | V |  |",
        "| Execution | x | |",
        "| Persistence | X |  |",
        "| Privilege escalation | y | |",
        "| Privilege escalation | v | |",
        "| Defense evasion |  |  |",
        "| Credential Access | - |  |",
        "| Discovery |  |  |",
        "| Lateral movement |  |  |",
        "| Collection |  |  |",
        "| Command and control | v | https://attack.mitre.org/techniques/T1071/004/ |",
        "| Exfiltration |  |  |",
        "| Impact |  |  |",
        "| Ransomware | v |  |",
    ]
    assert len(rows) == 14
    for lead in (True, False):
        body = rows if lead else [r.strip().strip("|") for r in rows]
        [card], issues = parse(f"# T1071.004 - DNS\n\nText.\n\n## Query\n```\nDeviceEvents\n```\n## Category\n\n{table(body, lead)}\n")
        assert issues == []
        assert [t.shortname for t in card.tactics] == [
            "initial-access", "execution", "persistence", "privilege-escalation", "command-and-control",
        ]
        assert card.tags == ("Ransomware",)
        assert [(t.attack_id, t.how) for t in card.techniques] == [("T1071.004", "title")]
        assert card.tactics[-1].note == "https://attack.mitre.org/techniques/T1071/004/"


def test_links_to_sub_techniques_and_old_wiki_pages():
    text = (
        "# Domain policy\n\nSee https://attack.mitre.org/techniques/T1484/001/ and "
        "https://attack.mitre.org/wiki/Technique/T1135 and T1003.001 in text, not 0xT1234 or T10460.\n\n"
        "```kusto\nDeviceEvents\n```\n"
    )
    [card], _ = parse(text)
    assert [(t.attack_id, t.how) for t in card.techniques] == [("T1484.001", "link"), ("T1135", "link"), ("T1003.001", "text")]
    assert card.queries[0].language == "kql"


@pytest.mark.parametrize(
    "block, expected",
    [
        ("## Contributor info\n**Contributor:** Jane Doe, John Roe\n", ("Jane Doe", "John Roe")),
        ("## Contributor info\n**Contributor:**\nJane Doe\n**GitHub alias:** jd\n", ("Jane Doe",)),
        ("## Contributor info\n\nMicrosoft threat protection team\n", ("Microsoft threat protection team",)),
        ("## Contributor info\nContributor: Yoshi  \nOrganization: X\n", ("Yoshi",)),
        ("## Contributor info\n**Contributor:** < Milad Aslaner >\n", ("Milad Aslaner",)),
        ("## Contributor info\n**Contributor:** Contributor: Team A\n", ("Team A",)),
    ],
)
def test_contributors(block, expected):
    [card], _ = parse(f"# Title\n\n```\nX\n```\n\n{block}")
    assert card.authors == expected


def test_card_without_title_or_query_is_reported_and_still_loaded():
    [card], issues = parse("Just text.\n\n## Category\n" + table(["| Discovery | v | |"]), relpath="Discovery/My card.md")
    assert card.title == "My card"
    assert [i.code for i in issues] == ["card-no-title", "card-no-query"]
    assert all(i.file == "Discovery/My card.md" for i in issues)
    assert [t.shortname for t in card.tactics] == ["discovery"]


def test_txt_query_file_with_comment_header():
    text = "// Finds scanning.\n// MITRE: https://attack.mitre.org/techniques/T1046/\n// Tags: #Scan, #Net\nDeviceNetworkEvents\n| take 1 // T1016\n"
    [d], issues = parse(text, relpath="Discovery/scan.txt")
    assert issues == []
    assert d.description == "Finds scanning.\nMITRE: https://attack.mitre.org/techniques/T1046/"
    assert d.tags == ("Scan", "Net")
    assert [(t.attack_id, t.how) for t in d.techniques] == [("T1046", "link"), ("T1016", "text")]
    assert d.queries[0].text == text.strip("\n")
    assert d.title == "scan"


def test_bad_cards_give_one_line_issues_and_the_rest_loads(tmp_path):
    root = tmp_path / "cards"
    write(root, "a/good.md", "# Good\n\n```\nDeviceEvents\n```\n")
    write(root, "a/bad-utf8.md", b"# Bad\n\n\xff\xfe broken\n")
    write(root, "a/no-title.md", "```\nDeviceEvents\n```\n")
    write(root, "a/empty.txt", "")
    write(root, "README.md", "# Not a card\n")
    load = load_source(source_for("hunting-cards", "cards"), root, cache_dir=None)
    assert sorted(d.title for d in load.detections) == ["Good", "no-title"]
    lines = [i.one_line() for i in load.issues]
    assert len(lines) == 3
    assert all("\n" not in line for line in lines)
    assert any("bad-utf8.md: line 3: not valid UTF-8" in line for line in lines)
    assert any("no-title.md" in line and "no title" in line for line in lines)
    assert any("empty.txt" in line and "empty" in line for line in lines)
