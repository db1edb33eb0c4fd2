"""Reading and writing Pol.is exports and math fixtures (analysis.polis_io)."""

import csv
import json
import math
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from analysis.polis_io import (
    COMMENT_GROUPS_HEADER,
    COMMENTS_HEADER,
    PARTICIPANT_VOTES_HEADER,
    SUMMARY_KEYS,
    VOTES_HEADER,
    PolisExport,
    PolisFormatError,
    Statement,
    Votes,
    read_conversation,
    read_math_fixture,
    read_participant_metadata,
    read_polis_export,
    write_polis_export,
)

TINY = Path(__file__).parent / "data" / "tiny-export"

OLD_COMMENTS = "timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,comment-body\n"
NEW_COMMENTS = (
    "timestamp,comment-id,author-id,agrees,disagrees,moderated,is-meta,is-seed,group-informed-consensus,comment-body\n"
)
VOTES = "timestamp,datetime,comment-id,voter-id,vote\n"


def make_export(folder: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (name → text) into ``folder`` and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def triples(votes: Votes) -> list[tuple[int, int, int]]:
    """(participant, statement, vote) in stored order."""
    return list(zip(votes.participant_ids.tolist(), votes.statement_ids.tolist(), votes.values.tolist(), strict=True))


# ---------------------------------------------------------------------------------------------------------
# comments.csv headers
# ---------------------------------------------------------------------------------------------------------


def test_old_comments_header_with_quotes_commas_and_newlines(tmp_path):
    comments = OLD_COMMENTS + (
        '1403067224363,Wed Jun 18 11:53:44 WIB 2014,48,215,38,18,1,"Small, or large; ""fair"" pay\nfor all"\n'
        "1403058993627,Wed Jun 18 09:36:33 WIB 2014,36,85,53,30,-1,Plain text\n"
        "1403058993627,Wed Jun 18 09:36:33 WIB 2014,37,,0,0,0,No author\n"
    )
    folder = make_export(tmp_path / "x", {"comments.csv": comments, "votes.csv": VOTES})
    export = read_polis_export(folder)
    s36, s37, s48 = export.statements
    assert [s.id for s in export.statements] == [36, 37, 48]
    # the old header has no is-seed column: whether the organisers wrote it is not said (None), not "no"
    assert s48 == Statement(48, 'Small, or large; "fair" pay\nfor all', 215, 1, False, None, 1403067224.363)
    assert (s36.moderated, s36.author_id, s36.text) == (-1, 85, "Plain text")
    assert s37.author_id is None and s37.moderated == 0
    assert export.mod_out == (36,)
    assert export.meta == ()


def test_new_comments_header_reads_meta_and_seed(tmp_path):
    comments = NEW_COMMENTS + (
        "1726860676783,2,0,57,0,1,false,true,0.68,I hope it can retain its southern hospitality\n"
        '1726860685220,12,0,56,1,-1,true,false,0.49,"Meta:\nI am a volunteer"\n'
    )
    export = read_polis_export(make_export(tmp_path / "x", {"comments.csv": comments, "votes.csv": VOTES}))
    s2, s12 = export.statements
    assert (s2.is_meta, s2.is_seed, s2.moderated) == (False, True, 1)
    assert (s12.is_meta, s12.is_seed, s12.moderated, s12.text) == (True, False, -1, "Meta:\nI am a volunteer")
    assert s2.timestamp == pytest.approx(1726860676.783)
    assert export.meta == (12,)
    assert export.mod_out == (12,)


# ---------------------------------------------------------------------------------------------------------
# votes: timestamps, last vote wins, participants-votes fallback
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second", "seconds"),
    [
        ("1500232652930", "1500232653930", 1500232652.93),
        ("1500232652", "1500232653", 1500232652.0),
        ("1500232652.5", "1500232653.5", 1500232652.5),
    ],
    ids=["milliseconds", "seconds", "fractional-seconds"],
)
def test_timestamps_in_milliseconds_or_seconds(tmp_path, first, second, seconds):
    votes = VOTES + f"{second},,0,1,1\n{first},,0,2,-1\n"
    export = read_polis_export(make_export(tmp_path / "x", {"comments.csv": OLD_COMMENTS, "votes.csv": votes}))
    assert triples(export.votes) == [(2, 0, -1), (1, 0, 1)]  # sorted by time, not file order
    assert export.votes.timestamps[0] == pytest.approx(seconds)
    assert export.votes.timestamps[1] - export.votes.timestamps[0] == pytest.approx(1.0)


def test_last_vote_wins_by_timestamp_not_file_order(tmp_path):
    # Pol.is orders votes.csv by statement: participant 5's re-vote on statement 0 comes *after* statement 1.
    votes = VOTES + (
        "1000000000300,,0,5,-1\n"  # re-vote, latest
        "1000000000100,,0,5,1\n"  # first vote
        "1000000000200,,1,5,0\n"
        "1000000000200,,1,6,1\n"  # equal timestamps: file order decides, the later row wins
        "1000000000200,,1,6,-1\n"
    )
    export = read_polis_export(make_export(tmp_path / "x", {"comments.csv": OLD_COMMENTS, "votes.csv": votes}))
    assert len(export.votes) == 5  # full history kept
    latest = export.latest()
    assert sorted(triples(latest)) == [(5, 0, -1), (5, 1, 0), (6, 1, -1)]
    assert list(latest.timestamps) == sorted(latest.timestamps)
    assert len(export.votes.until(1000000000.15)) == 1


def test_tiny_export_latest_votes_match_participants_votes(tmp_path):
    export = read_polis_export(TINY)
    assert len(export.votes) == 152 and len(export.latest()) == 149
    fallback = tmp_path / "pv"
    shutil.copytree(TINY, fallback)
    (fallback / "votes.csv").unlink()
    from_pv = read_polis_export(fallback)
    assert sorted(triples(from_pv.votes)) == sorted(triples(export.latest()))
    assert not from_pv.votes.has_timestamps and export.votes.has_timestamps
    assert from_pv.polis_groups == export.polis_groups == {p: int(p >= 10) for p in range(20)}
    assert export.topic == "Getting around town"
    assert export.description == 'A hand-made sample: two opinion groups,\n"cars" vs "bikes".'
    assert export.summary["url"] == "https://example.org/c/tiny"


@pytest.mark.parametrize("name", ["participants-votes.csv", "participant-votes.csv"])
def test_participants_votes_fallback_with_xid_blank_groups_and_sparse_columns(tmp_path, name):
    pv = (
        "participant,xid,group-id,n-comments,n-votes,n-agree,n-disagree,1,4,9\n"
        "1,,1,0,2,1,1,-1,1,\n"
        "2,abc,,1,3,1,1,1,0,-1\n"
        "7,,0,0,1,0,0,,,0\n"
    )
    export = read_polis_export(make_export(tmp_path / "x", {"comments.csv": OLD_COMMENTS, name: pv}))
    assert sorted(triples(export.votes)) == [
        (1, 1, -1),
        (1, 4, 1),
        (2, 1, 1),
        (2, 4, 0),
        (2, 9, -1),
        (7, 9, 0),
    ]
    assert dict(export.polis_groups) == {1: 1, 7: 0}
    assert np.isnan(export.votes.timestamps).all()
    assert export.summary == {}


def test_the_metadata_columns_are_read_with_the_votes_as_read_participant_metadata_reads_them(tmp_path):
    pv = (
        "participant,group-id,n-comments,n-votes,n-agree,n-disagree,age,0, area \n"
        "0,0,0,1,1,0,young,1, north \n"
        "1,1,0,1,0,1,,-1,south\n"
    )
    votes = VOTES + "1,x,0,0,1\n2,x,0,1,-1\n"
    files = {"comments.csv": OLD_COMMENTS + "1,x,0,0,1,1,1,First\n", "participants-votes.csv": pv}
    for folder in (make_export(tmp_path / "pv", files), make_export(tmp_path / "both", {**files, "votes.csv": votes})):
        export = read_polis_export(folder)
        assert export.participant_metadata == {"age": {0: "young"}, "area": {0: "north", 1: "south"}}
        assert export.participant_metadata == read_participant_metadata(folder)
    assert read_polis_export(TINY).participant_metadata == {} == read_participant_metadata(TINY)


def test_zip_of_a_folder_or_of_flat_files_reads_like_the_folder(tmp_path):
    expected = read_polis_export(TINY)
    nested, flat = tmp_path / "nested.zip", tmp_path / "flat.zip"
    with zipfile.ZipFile(nested, "w") as z, zipfile.ZipFile(flat, "w") as f:
        for path in sorted(TINY.iterdir()):
            z.write(path, f"tiny-export/{path.name}")
            f.write(path, path.name)
    for archive in (nested, flat):
        export = read_conversation(archive)
        assert triples(export.votes) == triples(expected.votes)
        assert np.array_equal(export.votes.timestamps, expected.votes.timestamps)
        assert export.statements == expected.statements
        assert export.polis_groups == expected.polis_groups
        assert export.summary == expected.summary


# ---------------------------------------------------------------------------------------------------------
# math fixtures
# ---------------------------------------------------------------------------------------------------------


def test_math_fixture_with_both_key_styles(tmp_path):
    short = tmp_path / "short"
    short.mkdir()
    (short / "votes.json").write_text(
        json.dumps(
            [
                {"pid": 0, "tid": 1, "vote": 1, "modified": "1714782753431"},
                {"pid": 0, "tid": 1, "vote": -1, "modified": "1714782753999"},  # later: wins
                {"pid": 3, "tid": 0, "vote": 0, "modified": "1714782431191"},
            ]
        )
    )
    (short / "comments.json").write_text(
        json.dumps(
            [
                {"tid": 0, "txt": "A", "pid": 0, "mod": 1, "is_meta": False, "created": "1714613201691"},
                {"tid": 1, "txt": "B", "pid": 3, "mod": -1, "is_meta": True, "is_seed": True},
            ]
        )
    )
    (short / "conversation.json").write_text(json.dumps({"topic": "T", "description": "D"}))
    (short / "math-pca2.json").write_text(
        json.dumps(
            {
                "base-clusters": {
                    "id": [0, 1],
                    "members": [[0], [3]],
                    "x": [0, 1],
                    "y": [0, 1],
                    "count": [1, 1],
                },
                "group-clusters": [{"id": 0, "members": [1]}, {"id": 1, "members": [0]}],
            }
        )
    )
    export = read_conversation(short)
    assert sorted(triples(export.latest())) == [(0, 1, -1), (3, 0, 0)]
    assert export.votes.timestamps[0] == pytest.approx(1714782431.191)
    assert export.mod_out == (1,) and export.meta == (1,)
    assert export.statements[0].timestamp == pytest.approx(1714613201.691)
    assert (export.topic, export.description) == ("T", "D")
    assert dict(export.polis_groups) == {3: 0, 0: 1}

    long = tmp_path / "long"
    long.mkdir()
    (long / "votes.json").write_text(
        json.dumps(
            [
                {
                    "participant_id": 2,
                    "statement_id": 1,
                    "vote": 1,
                    "modified": 1594984322740.0,
                    "datetime": None,
                }
            ]
        )
    )
    (long / "comments.json").write_text(
        json.dumps(
            [
                {
                    "statement_id": 1,
                    "txt": "x",
                    "participant_id": 0,
                    "moderated": 0,
                    "is_meta": False,
                    "created": "2020-06-29T20:11:22.421000Z",
                }
            ]
        )
    )
    export = read_math_fixture(long)
    assert triples(export.votes) == [(2, 1, 1)]
    assert export.statements[0].timestamp == pytest.approx(1593461482.421)
    assert export.polis_groups == {}


# ---------------------------------------------------------------------------------------------------------
# malformed input: every message names the file and the row
# ---------------------------------------------------------------------------------------------------------

GOOD_COMMENTS = OLD_COMMENTS + "1500000000000,,0,1,0,0,1,Hello\n"
GOOD_VOTES = VOTES + "1500000000000,,0,1,1\n"

CSV_ERRORS = [
    (
        "votes.csv",
        VOTES + "1,,0,1,1\n" * 15 + "1,,0,2,2\n",
        "votes.csv row 17: unknown vote value '2' (expected -1, 0 or 1)",
    ),
    (
        "votes.csv",
        VOTES + "1,,0,1,agree\n",
        "votes.csv row 2: unknown vote value 'agree' (expected -1, 0 or 1)",
    ),
    ("votes.csv", VOTES + "1,,0,x1,1\n", "votes.csv row 2: invalid voter-id 'x1' (expected an integer)"),
    (
        "votes.csv",
        VOTES + "1,,-3,1,1\n",
        "votes.csv row 2: invalid comment-id '-3' (expected a non-negative integer)",
    ),
    (
        "votes.csv",
        VOTES + "yesterday,,0,1,1\n",
        "votes.csv row 2: invalid timestamp 'yesterday' (expected epoch seconds or milliseconds before the year 10000)",
    ),
    ("votes.csv", VOTES + "1,,0,1\n", "votes.csv row 2: expected 5 fields, found 4"),
    (
        "votes.csv",
        "timestamp,comment-id,voter-id\n1,0,1\n",
        "votes.csv row 1: missing column 'vote' (header is 'timestamp,comment-id,voter-id')",
    ),
    ("votes.csv", "", "votes.csv: empty file (expected a header row)"),
    ("votes.csv", VOTES + '1,,0,1,"1\n', "votes.csv row 2: malformed CSV (unexpected end of data)"),
    (
        "comments.csv",
        OLD_COMMENTS + "1,,0,1,0,0,2,Hi\n",
        "comments.csv row 2: unknown moderated value '2' (expected -1, 0 or 1)",
    ),
    (
        "comments.csv",
        OLD_COMMENTS + "1,,0,1,0,0,1,Hi\n1,,0,1,0,0,1,Again\n",
        "comments.csv row 3: duplicate comment-id 0 (first in row 2)",
    ),
    (
        "comments.csv",
        NEW_COMMENTS + "1,0,1,0,0,1,maybe,false,0.5,Hi\n",
        "comments.csv row 2: invalid is-meta 'maybe' (expected true or false)",
    ),
    (
        "comments.csv",
        "comment-id,moderated\n0,1\n",
        "comments.csv row 1: missing column 'comment-body' (header is 'comment-id,moderated')",
    ),
    ("summary.csv", "topic,T\nurl,u,extra\n", "summary.csv row 2: expected 2 fields (key,value), found 3"),
]


@pytest.mark.parametrize(("name", "text", "message"), CSV_ERRORS)
def test_malformed_csv_names_file_and_row(tmp_path, name, text, message):
    files = {"comments.csv": GOOD_COMMENTS, "votes.csv": GOOD_VOTES, name: text}
    with pytest.raises(PolisFormatError) as info:
        read_polis_export(make_export(tmp_path / "x", files))
    assert str(info.value) == message
    assert info.value.file == name


PV_HEADER = "participant,group-id,n-comments,n-votes,n-agree,n-disagree,0,1\n"
PV_ERRORS = [
    (
        PV_HEADER + "1,0,0,1,1,0,1,\n2,0,0,1,1,0,1,5\n",
        "participants-votes.csv row 3: unknown vote value '5' (expected -1, 0 or 1)",
    ),
    (
        PV_HEADER + "1,zero,0,1,1,0,1,\n",
        "participants-votes.csv row 2: invalid group-id 'zero' (expected an integer)",
    ),
    (
        PV_HEADER + "1,0,0,1,1,0,1,\n1,0,0,1,1,0,1,\n",
        "participants-votes.csv row 3: duplicate participant 1 (first in row 2)",
    ),
    (PV_HEADER + "1,0,0,1,1,0\n", "participants-votes.csv row 2: expected 8 fields, found 6"),
]


@pytest.mark.parametrize(("text", "message"), PV_ERRORS)
def test_malformed_participants_votes(tmp_path, text, message):
    folder = make_export(tmp_path / "x", {"comments.csv": GOOD_COMMENTS, "participants-votes.csv": text})
    with pytest.raises(PolisFormatError, match="^" + message.replace("(", r"\(").replace(")", r"\)") + "$"):
        read_polis_export(folder)


JSON_ERRORS = [
    (
        "votes.json",
        "[{",
        "votes.json: invalid JSON (line 1 column 3: Expecting property name enclosed in double quotes)",
    ),
    ("votes.json", '{"a": 1}', "votes.json: expected a JSON list, found dict"),
    (
        "votes.json",
        '[{"pid": 0, "tid": 0, "vote": 1}, {"pid": 0, "vote": 1}]',
        "votes.json row 2: missing key 'statement_id' or 'tid'",
    ),
    (
        "votes.json",
        '[{"pid": 0, "tid": 0, "vote": 2}]',
        "votes.json row 1: unknown vote value 2 (expected -1, 0 or 1)",
    ),
    (
        "votes.json",
        '[{"pid": 0, "tid": 0, "vote": 1, "modified": "soon"}]',
        "votes.json row 1: invalid modified 'soon' (expected epoch milliseconds before the year 10000)",
    ),
    (
        "votes.json",
        '[{"pid": 1.5, "tid": 0, "vote": 1}]',
        "votes.json row 1: invalid participant id 1.5 (expected an integer)",
    ),
    (
        "comments.json",
        '[{"tid": 0, "mod": 3}]',
        "comments.json row 1: unknown moderated value 3 (expected -1, 0 or 1)",
    ),
    ("comments.json", '[{"tid": 0}, {"tid": 0}]', "comments.json row 2: duplicate statement id 0"),
]


@pytest.mark.parametrize(("name", "text", "message"), JSON_ERRORS)
def test_malformed_math_fixture(tmp_path, name, text, message):
    files = {"votes.json": '[{"pid": 0, "tid": 0, "vote": 1}]', "comments.json": '[{"tid": 0}]', name: text}
    with pytest.raises(PolisFormatError) as info:
        read_math_fixture(make_export(tmp_path / "x", files))
    assert str(info.value) == message


def test_missing_files_and_bad_paths(tmp_path):
    empty = make_export(tmp_path / "empty", {"comments.csv": GOOD_COMMENTS})
    with pytest.raises(PolisFormatError, match=r"^votes\.csv: file not found in .*empty \(nor participants-votes"):
        read_polis_export(empty)
    no_comments = make_export(tmp_path / "nc", {"votes.csv": GOOD_VOTES})
    with pytest.raises(PolisFormatError, match=r"^comments\.csv: file not found in .*nc$"):
        read_polis_export(no_comments)
    with pytest.raises(PolisFormatError, match="no such file or folder"):
        read_conversation(tmp_path / "nowhere")
    not_zip = tmp_path / "export.zip"
    not_zip.write_text("hello")
    with pytest.raises(PolisFormatError, match=r"^export\.zip: not a folder or a zip file"):
        read_conversation(not_zip)
    (tmp_path / "latin1").mkdir()
    (tmp_path / "latin1" / "votes.csv").write_bytes(VOTES.encode() + b"1,,0,1,1\n")
    (tmp_path / "latin1" / "comments.csv").write_bytes((OLD_COMMENTS + "1,,0,1,0,0,1,Café\n").encode("latin-1"))
    with pytest.raises(PolisFormatError, match=r"^comments\.csv: not UTF-8 text"):
        read_polis_export(tmp_path / "latin1")
    assert issubclass(PolisFormatError, ValueError)


# ---------------------------------------------------------------------------------------------------------
# writer
# ---------------------------------------------------------------------------------------------------------


def sample_export() -> PolisExport:
    """A small conversation built the way the web app would build it: plain records."""
    votes = Votes.from_records(
        [
            (1, 0, 1, 1_700_000_010.25),
            (2, 0, -1, 1_700_000_020.0),
            (1, 1, 0, 1_700_000_030.0),
            (1, 0, -1, 1_700_000_040.0),  # re-vote: 1 now disagrees with 0
            (3, 1, 1, 1_700_000_050.0),
            (3, 2, -1, 1_700_000_060.0),
            (2, 2, 1, 1_700_000_070.0),
        ]
    )
    statements = (
        Statement(0, 'Commas, "quotes"\nand newlines', author_id=1, moderated=1, timestamp=1_700_000_000.0),
        Statement(1, "Second", author_id=1, moderated=0, timestamp=1_700_000_001.0),
        Statement(2, "Rejected", author_id=2, moderated=-1, timestamp=1_700_000_002.0),
        Statement(3, "Nobody voted", author_id=None, moderated=1, timestamp=None),
    )
    summary = {"topic": "A topic", "url": "https://example.org/c/1", "conversation-description": "Why,\nhow"}
    return PolisExport(votes, statements, summary=summary)


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def test_writer_headers_and_counts(tmp_path):
    paths = write_polis_export(tmp_path / "out", sample_export(), {1: 0, 2: 1, 3: 1})
    assert [p.name for p in paths] == [
        "summary.csv",
        "comments.csv",
        "votes.csv",
        "participant-votes.csv",
        "comment-groups.csv",
    ]
    summary, comments, votes, participants, groups = (read_csv(p) for p in paths)
    assert summary == [
        ["topic", "A topic"],
        ["url", "https://example.org/c/1"],
        ["voters", "3"],
        ["voters-in-conv", "3"],
        ["commenters", "2"],
        ["comments", "4"],
        ["groups", "2"],
        ["conversation-description", "Why,\nhow"],
    ]
    assert [row[0] for row in summary] == list(SUMMARY_KEYS)
    assert comments[0] == list(COMMENTS_HEADER)
    assert comments[1] == [
        "1700000000",
        "Tue Nov 14 22:13:20 UTC 2023",
        "0",
        "1",
        "0",
        "2",
        "1",
        'Commas, "quotes"\nand newlines',
    ]
    assert comments[4][:2] == ["", ""] and comments[4][3] == ""
    assert votes[0] == list(VOTES_HEADER)
    assert [row[0] for row in votes[1:]][:2] == ["1700000010", "1700000020"]
    assert len(votes) == 8  # full history, not de-duplicated
    assert participants[0] == [*PARTICIPANT_VOTES_HEADER, "0", "1", "2"]
    assert participants[1:] == [
        ["1", "0", "2", "2", "0", "1", "-1", "0", ""],
        ["2", "1", "1", "2", "1", "1", "-1", "", "1"],
        ["3", "1", "0", "2", "1", "1", "", "1", "-1"],
    ]
    assert groups[0] == [
        *COMMENT_GROUPS_HEADER,
        *("group-a-votes", "group-a-agrees", "group-a-disagrees", "group-a-passes"),
        *("group-b-votes", "group-b-agrees", "group-b-disagrees", "group-b-passes"),
    ]
    assert groups[1] == [
        "0",
        'Commas, "quotes"\nand newlines',
        "2",
        "0",
        "2",
        "0",
        "1",
        "0",
        "1",
        "0",
        "1",
        "0",
        "1",
        "0",
    ]
    assert groups[2] == ["1", "Second", "2", "1", "0", "1", "1", "0", "0", "1", "1", "1", "0", "0"]
    assert groups[4] == ["3", "Nobody voted", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0"]


def test_export_then_import_reproduces_the_votes(tmp_path):
    original = sample_export()
    write_polis_export(tmp_path / "out", original, {1: 0, 2: 1})
    back = read_polis_export(tmp_path / "out")
    assert triples(back.votes) == triples(original.votes)
    assert np.array_equal(back.votes.timestamps, np.floor(original.votes.timestamps))
    assert triples(back.latest()) == triples(original.latest())
    assert back.statements == original.statements
    assert back.summary["topic"] == "A topic"
    assert back.description == "Why,\nhow"
    assert dict(back.polis_groups) == {1: 0, 2: 1}


def test_real_export_round_trip_through_writer(tmp_path):
    original = read_polis_export(TINY)
    write_polis_export(tmp_path / "out", original)
    back = read_polis_export(tmp_path / "out")
    assert triples(back.votes) == triples(original.votes)
    assert np.array_equal(back.votes.timestamps, np.floor(original.votes.timestamps))
    assert back.statements == tuple(
        Statement(s.id, s.text, s.author_id, s.moderated, s.is_meta, s.is_seed, math.floor(s.timestamp))
        for s in original.statements
    )
    assert back.polis_groups == original.polis_groups


def test_votes_validate_their_input():
    with pytest.raises(ValueError, match="same length"):
        Votes(np.array([1, 2]), np.array([1]), np.array([1, 1]), np.array([0.0, 0.0]))
    with pytest.raises(ValueError, match="must be -1, 0 or 1, got 2"):
        Votes.from_records([(1, 1, 2, None)])
    with pytest.raises(ValueError, match="moderated must be -1, 0 or 1"):
        Statement(1, moderated=5)
    assert len(Votes.empty().latest()) == 0


def test_our_export_read_back_gives_identical_analysis(tmp_path):
    from analysis import run_analysis

    original = read_polis_export(TINY)
    first = run_analysis(original.latest().as_arrays(), mod_out=original.mod_out, meta=original.meta)
    write_polis_export(tmp_path / "out", original, first)
    back = read_polis_export(tmp_path / "out")
    again = run_analysis(back.latest().as_arrays(), mod_out=back.mod_out, meta=back.meta)
    assert again == first
    assert dict(back.polis_groups) == {int(p): g.id for g in first.groups for p in g.members}
    summary = dict(read_csv(tmp_path / "out" / "summary.csv"))
    assert summary["voters-in-conv"] == str(len(first.in_conv))
    assert summary["groups"] == str(first.k)
