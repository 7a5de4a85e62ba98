"""Check the exercise figures (issue 11, DESIGN §4 "Figures"): every built-in exercise has a
valid, small, self-contained SVG that moves between a start and an end pose, and the poses are
anatomically plausible. Pure functions: no app, no database."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from app.figures import (
    POSES,
    FigureSpec,
    builtin_figure,
    builtin_slugs,
    figure_for_choice,
    figure_for_pose_names,
    from_dict,
    render_figure,
    to_dict,
)
from app.figures.render import FLOOR, SEGMENTS, _norm, _place, flexion, joints

CONTENT_FILE = (
    Path(__file__).resolve().parents[2] / "app" / "content" / "low_back_core_stability.json"
)
EXERCISES = json.loads(CONTENT_FILE.read_text(encoding="utf-8"))["exercises"]
BY_SLUG = {exercise["slug"]: exercise for exercise in EXERCISES}
SLUGS = list(BY_SLUG)
SVG_NS = "{http://www.w3.org/2000/svg}"
FRAMES = (None, "start", "end")
LIMIT = 4096

each_slug = pytest.mark.parametrize("slug", SLUGS)
each_frame = pytest.mark.parametrize("frame", FRAMES, ids=["animated", "start", "end"])


def _spec(slug: str) -> FigureSpec:
    spec = builtin_figure(slug)
    assert spec is not None, f"{slug} has no figure"
    return spec


def _without_title(svg: str) -> str:
    return re.sub(r"<title>.*?</title>", "", svg)


def _variant_groups() -> dict[str, int]:
    """Group slugs linked by the content's easier/harder fields (variants of each other)."""
    parent = {slug: slug for slug in SLUGS}

    def root(slug: str) -> str:
        while parent[slug] != slug:
            slug = parent[slug]
        return slug

    for exercise in EXERCISES:
        for key in ("easier", "harder"):
            other = exercise.get(key)
            if other in parent:
                parent[root(other)] = root(exercise["slug"])
    roots = {root(slug) for slug in SLUGS}
    number = {r: i for i, r in enumerate(sorted(roots))}
    return {slug: number[root(slug)] for slug in SLUGS}


def test_every_builtin_exercise_has_a_figure():
    assert set(builtin_slugs()) == set(SLUGS)


@each_slug
def test_start_and_end_poses_give_every_joint(slug):
    spec = _spec(slug)
    for pose in (spec.start, spec.end, spec.mid):
        if pose is not None:
            assert pose.missing() == set(), f"{slug}: no direction for {pose.missing()}"
            assert pose.view == spec.start.view


@pytest.mark.parametrize("name", list(POSES))
def test_every_library_pose_gives_every_joint(name):
    assert POSES[name].missing() == set()
    assert set(POSES[name].angles) == set(SEGMENTS)


@each_slug
@each_frame
def test_every_frame_is_valid_standalone_svg_under_4_kb(slug, frame):
    svg = render_figure(_spec(slug), frame=frame)
    assert len(svg.encode("utf-8")) <= LIMIT
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG_NS}svg"
    assert root.get("role") == "img"
    assert root.get("viewBox")
    title = root.find(f"{SVG_NS}title")
    assert title is not None and root[0] is title
    assert len((title.text or "").split()) >= 6, "the title describes the movement"
    for element in root.iter():
        assert element.tag != f"{SVG_NS}script"
        assert element.tag.startswith(SVG_NS), f"{element.tag} is not SVG"
        for name, value in element.attrib.items():
            local = name.rsplit("}", 1)[-1]
            assert not local.lower().startswith("on"), f"event handler {name}"
            assert local != "style", "style attributes break the CSP"
            if local == "href":
                assert value.startswith("#")
    assert "<script" not in svg.lower()
    assert svg.count("http") == 1, "the namespace is the only address"
    assert all(ref.startswith("#") for ref in re.findall(r"url\(\s*['\"]?([^)'\"]*)", svg))
    assert "@import" not in svg and "@font-face" not in svg


@each_slug
def test_start_and_end_frames_differ(slug):
    spec = _spec(slug)
    start, end = render_figure(spec, frame="start"), render_figure(spec, frame="end")
    assert _without_title(start) != _without_title(end)


def test_no_two_exercises_share_a_start_frame_unless_they_are_variants():
    groups = _variant_groups()
    seen: dict[str, str] = {}
    for slug in SLUGS:
        picture = _without_title(render_figure(_spec(slug), frame="start"))
        other = seen.setdefault(picture, slug)
        assert other == slug or groups[other] == groups[slug], f"{slug} looks like {other}"


@each_slug
def test_animated_figure_moves_and_stands_still_under_reduced_motion(slug):
    svg = render_figure(_spec(slug))
    assert "@keyframes" in svg
    assert re.search(r'class="([^"]* )?[umlbo]( [^"]*)?"', svg), "something moves"
    reduced = re.search(r"@media \(prefers-reduced-motion:reduce\)\{([^}]*)\}", svg)
    assert reduced and "animation:none" in reduced.group(1)
    assert "prefers-color-scheme:dark" in svg


@each_slug
@pytest.mark.parametrize("frame", ["start", "end"])
def test_still_frames_do_not_move(slug, frame):
    svg = render_figure(_spec(slug), frame=frame)
    assert "@keyframes" not in svg and "animation" not in svg


def test_tempo_and_hold_set_the_length_of_one_repetition():
    spec = _spec("bird-dog")  # rest 0.5 s, move 2 s, hold, move back 2 s
    assert "{animation:14.5s " in render_figure(spec, tempo_seconds=2, hold_seconds=10)
    assert "{animation:5s " in render_figure(spec, tempo_seconds=2, hold_seconds=0.5)
    assert "{animation:4.5s " in render_figure(spec, tempo_seconds=2, hold_seconds=0)


def test_a_translated_title_replaces_the_description_and_is_escaped():
    svg = render_figure(_spec("bird-dog"), frame="end", title="Perro <y> pájaro & más")
    title = ET.fromstring(svg).find(f"{SVG_NS}title")
    assert title is not None and title.text == "Perro <y> pájaro & más"


def test_an_unknown_frame_is_rejected():
    with pytest.raises(ValueError):
        render_figure(_spec("bird-dog"), frame="middle")  # type: ignore[arg-type]


def test_a_figure_built_from_two_library_pose_names_renders():
    spec = figure_for_pose_names(
        "supine-knees-bent", "bridge", description="Lift your hips off the floor and hold."
    )
    for frame in FRAMES:
        svg = render_figure(spec, frame=frame)
        assert ET.fromstring(svg).get("role") == "img"
        assert len(svg.encode()) <= LIMIT
    assert render_figure(spec, frame="start") != render_figure(spec, frame="end")


@pytest.mark.parametrize("name", list(POSES))
def test_every_library_pose_can_be_drawn_still(name):
    spec = figure_for_pose_names(name, name, description="Hold this position and breathe.")
    svg = render_figure(spec, frame="start")
    assert ET.fromstring(svg).get("role") == "img"
    assert len(svg.encode()) <= LIMIT


def test_poses_seen_from_different_sides_cannot_be_blended():
    with pytest.raises(ValueError):
        figure_for_pose_names("standing", "standing-front", description="Turn around.")
    with pytest.raises(KeyError):
        figure_for_pose_names("standing", "handstand", description="No.")


def test_a_stored_choice_names_a_builtin_figure_two_poses_or_a_whole_spec():
    reuse = figure_for_choice({"slug": "glute-bridge"}, description="My bridge.")
    assert reuse is not None and reuse.description == "My bridge."
    assert reuse.end == _spec("glute-bridge").end
    blend = figure_for_choice({"start": "standing", "end": "hip-hinge"}, description="Bow.")
    assert blend is not None and blend.end == POSES["hip-hinge"]
    stored = json.loads(json.dumps(to_dict(_spec("dead-bug"))))
    whole = figure_for_choice(stored, description="Dead bug, our way.")
    assert whole is not None and whole.start == _spec("dead-bug").start
    for junk in (None, {}, {"slug": "no-such"}, {"start": "standing"}, {"start": 3, "end": []}):
        assert figure_for_choice(junk, description="x") is None


@each_slug
def test_a_spec_survives_a_round_trip_through_json(slug):
    spec = _spec(slug)
    again = from_dict(json.loads(json.dumps(to_dict(spec))))
    assert again == spec
    assert render_figure(again) == render_figure(spec)


# --- anatomical plausibility -------------------------------------------------------------------


def _side_view_poses():
    for slug in SLUGS:
        spec = _spec(slug)
        for name, pose in (("start", spec.start), ("end", spec.end), ("mid", spec.mid)):
            if pose is not None and pose.view == "side":
                yield f"{slug}-{name}", pose
    for name, pose in POSES.items():
        if pose.view == "side":
            yield name, pose


@pytest.mark.parametrize(("name", "pose"), list(_side_view_poses()))
def test_knees_and_elbows_bend_the_right_way_seen_from_the_side(name, pose):
    for joint, bend in flexion(pose).items():
        assert -3 <= bend <= 165, f"{name}: {joint} bent {bend}°"


def _tilt_from_horizontal(angle: float) -> float:
    return abs(abs(_norm(angle)) - 90)


@pytest.mark.parametrize("slug", [s for s in SLUGS if BY_SLUG[s]["position"].startswith("Lie")])
def test_exercises_that_start_lying_down_start_on_the_floor(slug):
    spec = _spec(slug)
    assert _tilt_from_horizontal(spec.start.angles["lumbar"]) <= 40
    assert any(prop.kind == "mat" for prop in spec.props)
    if spec.start.view == "above":  # lying face up, seen from the ceiling
        return
    assert FLOOR - _place(spec)["start"][1] < 16, "the pelvis is near the floor"


@pytest.mark.parametrize(
    "slug",
    [
        s
        for s in SLUGS
        if BY_SLUG[s]["position"].startswith("Stand") and _spec(s).start.view != "top"
    ],
)
def test_exercises_done_standing_stand_upright_at_one_end(slug):
    spec = _spec(slug)
    assert min(abs(_norm(p.angles["lumbar"] - 180)) for p in (spec.start, spec.end)) <= 12


def test_bird_dog_reaches_with_the_opposite_arm_and_leg():
    at = joints(_spec("bird-dog").end)
    assert at["hand_n"][0] - at["shoulder_n"][0] > 15, "near arm reaches forward"
    assert abs(at["hand_n"][1] - at["shoulder_n"][1]) < 4, "no higher than the back"
    assert at["hip_f"][0] - at["ankle_f"][0] > 20, "far leg reaches back"
    assert abs(at["ankle_f"][1] - at["hip_f"][1]) < 4
    assert abs(at["hand_f"][0] - at["shoulder_f"][0]) < 4, "the other hand stays down"
    assert abs(at["knee_n"][0] - at["hip_n"][0]) < 4, "the other knee stays down"


def test_dead_bug_lowers_the_opposite_arm_and_leg():
    start, end = joints(_spec("dead-bug").start), joints(_spec("dead-bug").end)
    assert end["hand_n"][0] < end["shoulder_n"][0] - 15, "near arm goes behind the head"
    assert end["ankle_f"][1] - start["ankle_f"][1] > 5, "far leg lowers toward the floor"
    assert end["hand_f"] == pytest.approx(start["hand_f"]), "the other arm stays up"
    assert end["ankle_n"] == pytest.approx(start["ankle_n"]), "the other leg stays"


def test_the_brace_holds_still_while_the_bridge_lifts_the_hips():
    brace, bridge = _spec("abdominal-brace"), _spec("glute-bridge")
    assert brace.start == brace.end, "nothing moves in a brace"
    assert render_figure(brace, frame="end") != render_figure(bridge, frame="end")
    lift = _place(bridge)["start"][1] - _place(bridge)["end"][1]
    assert lift > 5


def test_the_plank_is_one_straight_line_from_head_to_heels():
    a = _spec("front-plank").end.angles
    line = a["lumbar"]
    for segment in ("thorax",):
        assert abs(_norm(a[segment] - line)) < 3
    for segment in ("thigh_n", "shin_n", "thigh_f", "shin_f"):
        assert abs(_norm(a[segment] - line - 180)) < 3


def test_the_side_bridge_is_seen_facing_you_with_knee_hip_and_shoulder_in_a_line():
    spec = _spec("side-bridge-from-knees")
    assert spec.start.view == spec.end.view == "front"
    at = joints(spec.end)
    (kx, ky), (hx, hy), (sx, sy) = at["knee_f"], at["hip_f"], at["shoulder_f"]
    cross = (hx - kx) * (sy - ky) - (hy - ky) * (sx - kx)
    assert abs(cross) / ((sx - kx) ** 2 + (sy - ky) ** 2) ** 0.5 < 1.5


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["start"]["angles"].pop("shin_n"),
        lambda d: d["start"].update(view="sideways"),
        lambda d: d["end"]["angles"].update(head=float("nan")),
        lambda d: d["end"].update(lengths={"thigh_n": 3}),
        lambda d: d["props"].append({"kind": "trampoline"}),
        lambda d: d["cues"].append({"kind": "arrow", "at": "elbow_x"}),
        lambda d: d.update(anchor="tail"),
        lambda d: d["end"].update(view="front"),
        lambda d: d.pop("description"),
    ],
)
def test_a_stored_spec_that_would_not_draw_is_rejected(change):
    data = json.loads(json.dumps(to_dict(_spec("bird-dog"))))
    change(data)
    with pytest.raises(ValueError):
        from_dict(data)


def test_the_muscle_marks_sit_where_the_steps_say():
    def regions(slug: str) -> set[str]:
        return {c.at for c in _spec(slug).cues if c.kind == "region"}

    assert regions("abdominal-brace") == {"belly"}
    assert regions("multifidus-swell") == {"back"}
    assert regions("diaphragmatic-breathing") == {"belly-rise"}
    end, start = (render_figure(_spec("abdominal-brace"), frame=f) for f in ("end", "start"))
    assert 'class="r"' in end and 'class="r"' not in start, "the brace shows once it is held"


@pytest.mark.parametrize(
    ("start", "end", "mat"),
    [
        ("supine-knees-bent", "bridge", True),
        ("quadruped", "bird-dog", True),
        ("side-lying-knees-bent", "side-bridge-knees", True),
        ("supine-from-above", "knee-fallen-out-from-above", True),
        ("standing", "hip-hinge", False),
        ("sitting", "sitting-leaning-forward", False),
        ("squat-lift", "standing", False),
        ("hands-at-chest-from-above", "arms-forward-from-above", False),
    ],
)
def test_a_clinic_figure_gets_a_mat_only_when_it_lies_on_the_floor(start, end, mat):
    spec = figure_for_pose_names(start, end, description="Move slowly and breathe.")
    assert any(p.kind == "mat" for p in spec.props) == mat
