"""Draw an exercise figure as a small standalone SVG: a jointed body, its props, cue marks, motion.

Standard library only. The body is a tree of segments (lumbar → thorax → head and arms; thighs →
shins → feet hang from the pelvis), each one thick round-capped stroke inside a group whose origin
is its joint, so rotating a group bends that joint and carries the rest of the limb along.

A pose gives each segment's direction on the page in degrees: 0 points down the page, 90 the way
the figure faces (right), 180 up, -90 back (left). With that convention a knee bends the right way
when thigh − shin is positive and an elbow when forearm − upper arm is positive (`flexion`).

The still frames (and the picture under reduced motion) are the pose written into transform
attributes. The animated figure adds CSS @keyframes that move every differing joint between the
start and the end pose, resting in each: one rule shared by all joints reading per-joint angles
from custom properties, so motion costs a few dozen bytes per moving joint and needs no script.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

View = Literal["side", "front", "above", "top"]
# side: seen from the figure's left, facing right; front: facing you; above: lying face up, seen
# from the ceiling; top: standing, seen from the ceiling, facing down the page
OVERHEAD: tuple[View, ...] = ("above", "top")
SCALE: dict[View, float] = {"top": 1.5}  # a standing body seen from above is small: draw it larger
Frame = Literal["start", "end"]
PropKind = Literal["mat", "chair", "step", "wall", "stick", "kettlebell", "box", "band"]
Point = tuple[float, float]

WIDTH, HEIGHT = 120, 80  # the picture's size; every figure is framed 3:2
FLOOR = 76.0  # y of the floor
MAT = 2.5  # a mat's thickness
MIN_VIEW, MARGIN = 84.0, 4.0  # the closest framing (lying figures fill the picture) and margin
MAX_HOLD, MIN_TEMPO, MAX_TEMPO = 60.0, 0.3, 10.0

LIMBS = ("arm", "forearm", "thigh", "shin", "foot")
SEGMENTS: tuple[str, ...] = (
    "lumbar",
    "thorax",
    "head",
    *(f"{limb}_{side}" for side in ("n", "f") for limb in LIMBS),
)
# each segment's far end names a joint (forearm → hand, foot → toe); n is near, f is far
END_JOINT = {
    "lumbar": "waist",
    "thorax": "neck",
    "head": "head",
    "arm": "elbow",
    "forearm": "hand",
    "thigh": "knee",
    "shin": "ankle",
    "foot": "toe",
}
HEAD_R, TOP_HEAD_R, HEAD_AT = 4.7, 3.6, 7.4  # head radius (smaller from above), centre from neck
HAND_W, FOOT_HEEL, SOLE = 5.6, 1.2, 1.0  # hand dot; heel behind the ankle; sole below the ankle
ANKLE_UP = SOLE + 2.1  # the ankle's height above what a flat foot stands on
PELVIS_BAR = (4.5, 8.0)  # front and top views: half-length and width of the stroke across the hips
SHOULDER_BAR = {"front": 6.0, "above": 6.0, "top": 7.5}  # width of the stroke across the shoulders


@dataclass(frozen=True)
class Segment:
    """One drawn body part: where it hangs from, how long and how thick its stroke is."""

    parent: str | None
    at_end: bool  # hangs from the parent's far end (else from the parent's start)
    lateral: float  # offset across the parent's stroke: hips and shoulders, or arms behind
    length: float
    width: float


def _segments(view: View) -> dict[str, Segment]:
    """Return the body's segments as a view sees them (front and overhead views spread hips and
    shoulders apart; from the side the shoulder joint sits towards the back of the chest)."""
    wide = view != "side"
    chest = 9.0 if view == "top" else 13.0 if wide else 10.5  # seen from above: its depth
    table = {
        "lumbar": Segment(None, False, 0, 8.5, 12 if wide else 10),
        "thorax": Segment("lumbar", True, 0, 10.5, chest),
        "head": Segment("thorax", True, 0, 2.8, 4.6),
    }
    for side, sign in (("n", -1), ("f", 1)):
        table[f"arm_{side}"] = Segment("thorax", True, sign * 6.2 if wide else 3.0, 11, 5.6)
        table[f"forearm_{side}"] = Segment(f"arm_{side}", True, 0, 9.5, 4.6)
        table[f"thigh_{side}"] = Segment("lumbar", False, sign * 3.7 if wide else 0, 14.5, 7.6)
        table[f"shin_{side}"] = Segment(f"thigh_{side}", True, 0, 14.5, 6)
        table[f"foot_{side}"] = Segment(f"shin_{side}", True, 0, 6.2, 4.2)
    return table


def _head_r(view: View) -> float:
    return TOP_HEAD_R if view == "top" else HEAD_R


# --- the data a figure is made of ----------------------------------------------------------------


@dataclass(frozen=True)
class Pose:
    """A body position: every segment's direction on the page and, where a segment points
    towards or away from you, the share of its length that shows (1 all, 0 none)."""

    view: View
    angles: dict[str, float]
    lengths: dict[str, float] = field(default_factory=dict)
    rise: float = 0.0  # height of what the figure stands on (a step) above the floor

    def k(self, segment: str) -> float:
        return self.lengths.get(segment, 1.0)

    def missing(self) -> set[str]:
        """Return the segments this pose gives no direction for."""
        return set(SEGMENTS) - set(self.angles)


@dataclass(frozen=True)
class Prop:
    """Equipment. `at` names the joint it goes with (hand_n holds a kettlebell or box, ankle_n
    stands on a step); `frame` says which pose places a fixed prop (a chair, a step)."""

    kind: PropKind
    at: str = ""
    frame: Frame = "start"


@dataclass(frozen=True)
class Cue:
    """A mark that teaches: an arrow along a joint's travel from the start to the end pose, or
    a highlighted muscle region: "belly" (the brace), "back" (beside the spine), "belly-rise"."""

    kind: Literal["arrow", "region"]
    at: str
    shift: Point = (0.0, 0.0)  # moves the arrow off the body
    bend: float = 0.0  # arrow curvature as a share of its length; + bows to the left of travel
    vector: Point | None = None  # the arrow's travel when the joint itself barely moves
    when: Literal["always", "end"] = "always"  # a region shown only in the held end pose


@dataclass(frozen=True)
class FigureSpec:
    """Everything needed to draw one exercise. Plain data: `to_dict` and `from_dict` carry it
    through JSON (a database column)."""

    description: str  # the <title>: one plain sentence describing the movement
    start: Pose
    end: Pose
    mid: Pose | None = None  # passed through halfway, for moves that are not a straight blend
    hold: Frame = "end"  # the pose held (and shown still under reduced motion)
    anchor: str = "pelvis"  # the joint that keeps its place across the poses (a planted foot)
    props: tuple[Prop, ...] = ()
    cues: tuple[Cue, ...] = ()
    tempo_seconds: float = 2.0  # one way, start to end
    hold_seconds: float = 0.5  # the rest in the held pose
    pause_seconds: float = 0.5  # the rest in the other pose


# --- geometry -------------------------------------------------------------------------------------


def _direction(angle: float) -> Point:
    rad = math.radians(angle)
    return math.sin(rad), math.cos(rad)


def _across(angle: float) -> Point:
    """Return a segment's local x axis on the page (SVG rotates it by -angle)."""
    rad = math.radians(-angle)
    return math.cos(rad), math.sin(rad)


def _norm(angle: float) -> float:
    """Fold an angle into (-180, 180]."""
    angle = math.fmod(angle, 360.0)
    if angle > 180:
        angle -= 360
    elif angle <= -180:
        angle += 360
    return angle


@dataclass(frozen=True)
class _Placed:
    """A segment placed with the pelvis at (0, 0): its joint, its far end, its direction."""

    origin: Point
    end: Point
    angle: float
    width: float


def _forward(pose: Pose) -> dict[str, _Placed]:
    """Place every segment with the pelvis at (0, 0)."""
    segments = _segments(pose.view)
    placed: dict[str, _Placed] = {}
    for name in SEGMENTS:
        seg = segments[name]
        if seg.parent is None:
            origin = (0.0, 0.0)
        else:
            parent = placed[seg.parent]
            base = parent.end if seg.at_end else parent.origin
            ax, ay = _across(parent.angle)
            origin = (base[0] + seg.lateral * ax, base[1] + seg.lateral * ay)
        angle = pose.angles[name]
        dx, dy = _direction(angle)
        length = seg.length * pose.k(name)
        end = (origin[0] + dx * length, origin[1] + dy * length)
        placed[name] = _Placed(origin, end, angle, seg.width)
    return placed


def _along(p: _Placed, reach: float) -> Point:
    dx, dy = _direction(p.angle)
    return p.origin[0] + dx * reach, p.origin[1] + dy * reach


def joints(pose: Pose, at: Point = (0.0, 0.0)) -> dict[str, Point]:
    """Return every named joint's position (pelvis, waist, neck, head, and per side shoulder,
    elbow, hand, hip, knee, ankle, toe) with the pelvis at `at`."""
    out = {"pelvis": at}
    for name, p in _forward(pose).items():
        limb, _, side = name.partition("_")
        suffix = f"_{side}" if side else ""
        end = p.end
        if limb == "head":
            end = _along(p, HEAD_AT * pose.k(name))
        elif limb == "forearm":
            end = _along(p, math.dist(p.origin, p.end) + pose.k(name))
        out[END_JOINT[limb] + suffix] = (end[0] + at[0], end[1] + at[1])
        if limb in ("arm", "thigh"):
            base = "shoulder" if limb == "arm" else "hip"
            out[base + suffix] = (p.origin[0] + at[0], p.origin[1] + at[1])
    return out


Capsule = tuple[float, float, float, float, float]  # x0, y0, x1, y1, stroke width


def _capsules(pose: Pose) -> dict[str, list[Capsule]]:
    """Return the round-capped strokes each segment is drawn with, pelvis at (0, 0)."""
    out: dict[str, list[Capsule]] = {}
    for name, p in _forward(pose).items():
        across = _across(p.angle)
        caps: list[Capsule] = [(*p.origin, *p.end, p.width)]
        if name == "head":
            centre = _along(p, HEAD_AT * pose.k(name))
            caps.append((*centre, *centre, 2 * _head_r(pose.view)))
        elif name.startswith("foot"):
            dx, dy = _direction(p.angle)
            ox, oy = -SOLE * across[0], -SOLE * across[1]
            heel = (p.origin[0] - dx * FOOT_HEEL + ox, p.origin[1] - dy * FOOT_HEEL + oy)
            caps = [(*heel, p.end[0] + ox, p.end[1] + oy, p.width)]
        elif name.startswith("forearm"):
            hand = _along(p, math.dist(p.origin, p.end) + pose.k(name))
            caps.append((*hand, *hand, HAND_W))
        elif pose.view != "side" and name in ("lumbar", "thorax"):
            if name == "lumbar":
                (half, width), base = PELVIS_BAR, p.origin
            else:
                half, width, base = (
                    _segments(pose.view)["arm_f"].lateral,
                    SHOULDER_BAR[pose.view],
                    p.end,
                )
            a = (base[0] - half * across[0], base[1] - half * across[1])
            b = (base[0] + half * across[0], base[1] + half * across[1])
            caps.append((*a, *b, width))
        out[name] = caps
    return out


def _bounds(pose: Pose, without: tuple[str, ...] = ()) -> tuple[float, float, float, float]:
    """Return (left, top, right, bottom) of the drawn body, pelvis at (0, 0), leaving out the
    segments named in `without`."""
    caps = [c for name, cs in _capsules(pose).items() if name not in without for c in cs]
    return (
        min(min(c[0], c[2]) - c[4] / 2 for c in caps),
        min(min(c[1], c[3]) - c[4] / 2 for c in caps),
        max(max(c[0], c[2]) + c[4] / 2 for c in caps),
        max(max(c[1], c[3]) + c[4] / 2 for c in caps),
    )


def lowest_point(pose: Pose, without: tuple[str, ...] = ()) -> float:
    """Return how far below the pelvis the body reaches, leaving out the segments `without`."""
    return _bounds(pose, without)[3]


def lowest_of(pose: Pose, segments: tuple[str, ...]) -> float:
    """Return how far below the pelvis the named segments reach."""
    return lowest_point(pose, tuple(s for s in SEGMENTS if s not in segments))


def flexion(pose: Pose) -> dict[str, float]:
    """Return each knee's and elbow's bend in degrees (negative: bent the wrong way). Only
    meaningful seen from the side."""
    a = pose.angles
    out = {}
    for side in ("n", "f"):
        out[f"knee_{side}"] = _norm(a[f"thigh_{side}"] - a[f"shin_{side}"])
        out[f"elbow_{side}"] = _norm(a[f"forearm_{side}"] - a[f"arm_{side}"])
    return out


def _poses(spec: FigureSpec) -> dict[str, Pose]:
    poses = {"start": spec.start, "end": spec.end}
    if spec.mid is not None:
        poses["mid"] = spec.mid
    return poses


def _place(spec: FigureSpec) -> dict[str, Point]:
    """Return the pelvis's place on the page in each pose.

    From the side or front the body's lowest point rests on the floor (the mat, the step it
    stands on); the anchor joint keeps its x from pose to pose; the movement is centred. Seen
    from above, the body is centred both ways."""
    poses = _poses(spec)
    ground = FLOOR - (MAT if any(p.kind == "mat" for p in spec.props) else 0.0)
    anchor_x = joints(spec.start)[spec.anchor][0]
    at = {}
    for name, pose in poses.items():
        y = 0.0 if pose.view in OVERHEAD else ground - pose.rise - lowest_point(pose)
        at[name] = (anchor_x - joints(pose)[spec.anchor][0], y)
    boxes = {name: _bounds(pose) for name, pose in poses.items()}
    scale = SCALE.get(spec.start.view, 1.0)  # the body is drawn scaled about the page origin
    left = min(b[0] + at[n][0] for n, b in boxes.items())
    right = max(b[2] + at[n][0] for n, b in boxes.items())
    dx, dy = (WIDTH / scale - left - right) / 2, 0.0
    if spec.start.view in OVERHEAD:
        top = min(b[1] + at[n][1] for n, b in boxes.items())
        bottom = max(b[3] + at[n][1] for n, b in boxes.items())
        dy = (HEIGHT / scale - top - bottom) / 2
    return {name: (x + dx, y + dy) for name, (x, y) in at.items()}


# --- SVG text -------------------------------------------------------------------------------------


def _n(value: float) -> str:
    """Write a number with at most one decimal."""
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


STYLE = (
    ".n{stroke:#1f2a37}.t{stroke:#4c5b6e}.f{stroke:#909db0}.g{stroke:#98a3b0}"
    ".p,.s{stroke:#a9814f}.p{fill:#d9c09a}.k{fill:#3b4654;stroke:#3b4654}.w{stroke:#2f9e44}"
    ".c{stroke:#1c7ed6}.r{fill:#f76707;fill-opacity:.8}.mt{fill:#dfe5ec}"
    # dark screens only: print keeps the light scheme
    "@media screen and (prefers-color-scheme:dark){"
    ".n{stroke:#f1f4f8}.t{stroke:#b3bfcc}.f{stroke:#6f7f93}.g{stroke:#66717e}"
    ".p,.s{stroke:#c9a676}.p{fill:#6b5638}.k{fill:#c5ced8;stroke:#c5ced8}.w{stroke:#51cf66}"
    ".c{stroke:#4dabf7}.r{fill:#ff922b}.mt{fill:#2a323c}}"
)
KETTLEBELL = (
    '<path class="s" stroke-width="1.8" d="M-2.4 3.4V1.6a2.4 2.4 0 0 1 4.8 0V3.4"/>'
    '<circle class="p" stroke-width="1.4" cy="7.6" r="4.4"/>'
)
BOX = '<rect class="p" stroke-width="1.6" x="-7" y="-5" width="14" height="10" rx="1"/>'
REGIONS = {
    # drawn in the lumbar group: its local -x is the front of the body, +x the back
    "belly": '<rect class="r" x="-5.2" y=".2" width="4.6" height="9" rx="2.2"/>',
    "back": '<rect class="r" x=".6" y=".2" width="4.6" height="9" rx="2.2"/>',
    "belly-rise": '<path class="r" d="M-4.2 -.4Q-12 4.6-4.2 9.6z"/>',
}

Values = dict[str, tuple[float, float, float, float]]  # pose name → (x, y, rotation, scale)
Kind = Literal["root", "joint", "scale", "band"]
# the animation class (and @keyframes name) of each kind of moving element; "o" fades a region
# in. None is a paint class (n t f g p s k w c r mt).
RULES: dict[Kind, str] = {"root": "u", "joint": "m", "scale": "l", "band": "b"}
STILL = "@media (prefers-reduced-motion:reduce){.u,.m,.l,.b,.o{animation:none}}"


class _Motion:
    """Collect the moving elements of one figure and write their CSS.

    Joints share one @keyframes rule that reads each joint's angles from custom properties its
    class sets. Custom properties inherit, so every joint sets every property the rule reads and
    never sees its parent's. The body as a whole and the band are single elements with literal
    rules; limbs seen longer or shorter scale their strokes with a second shared rule."""

    def __init__(self, animated: bool) -> None:
        self.animated = animated
        self.entries: list[tuple[str, Kind, Values]] = []
        self.names: dict[str, str] = {}

    def classes(self, key: str, values: Values, kind: Kind = "joint") -> str:
        """Return ' <rule> aN' for an element that differs between the poses, else ''."""
        if not self.animated or len(set(values.values())) == 1:
            return ""
        if key not in self.names:
            start = values["start"]
            # turn the short way round: CSS interpolates the numbers as written
            fixed = {
                n: (v[0], v[1], start[2] + _norm(v[2] - start[2]), v[3]) for n, v in values.items()
            }
            twin = next((n for n, k, v in self.entries if k == kind and v == fixed), None)
            if twin is None:
                twin = f"a{len(self.entries)}"
                self.entries.append((twin, kind, fixed))
            self.names[key] = twin  # a near and a far limb moving alike share a class
        return f" {RULES[kind]} {self.names[key]}"

    def css(self, total: float, times: tuple[float, float, float], mid: bool) -> str:
        """Write the animation rules for a repetition of `total` seconds."""
        t0, t1, t2 = (_n(t) for t in times)
        m1, m2 = _n((times[0] + times[1]) / 2), _n((times[2] + 100) / 2)

        def keyframes(name: str, start: str, end: str, middle: str) -> str:
            text = f"@keyframes {name}{{0%,{t0}%,to{{{start}}}{t1}%,{t2}%{{{end}}}"
            return text + (f"{m1}%,{m2}%{{{middle}}}" if mid else "") + "}"

        kinds = {kind for _, kind, _ in self.entries}
        if not kinds:
            return ""
        shifts = any(
            len({v[1] for v in values.values()}) > 1
            for _, kind, values in self.entries
            if kind == "joint"
        )
        used = sorted(RULES[k] for k in kinds)
        out = ",".join(f".{u}" for u in used) + f"{{animation:{_n(total)}s ease-in-out infinite}}"
        out += "".join(f".{u}{{animation-name:{u}}}" for u in used)
        if "joint" in kinds:
            y_end, y_mid = ("--Y", "--q") if shifts else ("--y", "--y")
            out += keyframes(
                "m",
                "transform:translate(var(--x),var(--y)) rotate(var(--a))",
                f"transform:translate(var(--x),var({y_end})) rotate(var(--b))",
                f"transform:translate(var(--x),var({y_mid})) rotate(var(--c))",
            )
        if "scale" in kinds:
            out += keyframes(
                "l", "transform:scaleY(var(--s))", "transform:scaleY(var(--S))",
                "transform:scaleY(var(--z))",
            )  # fmt: skip
        for name, kind, values in self.entries:
            start, end = values["start"], values["end"]
            middle = values.get("mid", start)
            if kind in ("root", "band"):
                band = kind == "band"
                start_, end_, middle_ = (_literal(v, band) for v in (start, end, middle))
                out += keyframes(RULES[kind], start_, end_, middle_)
                continue
            if kind == "joint":
                props = [f"--x:{_n(start[0])}px", f"--y:{_n(start[1])}px"]
                props += [f"--a:{_n(start[2])}deg", f"--b:{_n(end[2])}deg"]
                props += [f"--Y:{_n(end[1])}px"] if shifts else []
                props += [f"--c:{_n(middle[2])}deg"] if mid else []
                props += [f"--q:{_n(middle[1])}px"] if mid and shifts else []
            else:
                props = [f"--s:{_n(start[3])}", f"--S:{_n(end[3])}"]
                props += [f"--z:{_n(middle[3])}"] if mid else []
            out += f".{name}{{{';'.join(props)}}}"
        return out


def _literal(v: tuple[float, float, float, float], scale: bool) -> str:
    text = f"transform:translate({_n(v[0])}px,{_n(v[1])}px) rotate({_n(v[2])}deg)"
    return text + (f" scaleY({_n(v[3])})" if scale else "")


def _timeline(
    spec: FigureSpec, tempo: float, hold: float
) -> tuple[float, tuple[float, float, float]]:
    """Return one repetition's length and the percentages where the move out starts and ends
    and the move back starts: rest in the start pose, move, rest in the end pose, move back."""
    if spec.hold == "end":
        rest_start, rest_end = spec.pause_seconds, hold
    else:
        rest_start, rest_end = hold, spec.pause_seconds
    total = rest_start + tempo + rest_end + tempo
    return total, (
        100 * rest_start / total,
        100 * (rest_start + tempo) / total,
        100 * (rest_start + tempo + rest_end) / total,
    )


def _arrow(p0: Point, p1: Point, bend: float) -> str:
    """Draw an arrow from p0 to p1, bowed by `bend` of its length to the left of travel."""
    (x0, y0), (x1, y1) = p0, p1
    cx, cy = (x0 + x1) / 2 + (y1 - y0) * bend, (y0 + y1) / 2 - (x1 - x0) * bend
    size = math.hypot(x1 - cx, y1 - cy) or 1.0
    tx, ty = (x1 - cx) / size, (y1 - cy) / size
    (ax, ay), (bx, by) = (
        (
            x1 - 3.6 * (tx * math.cos(turn) - ty * math.sin(turn)),
            y1 - 3.6 * (tx * math.sin(turn) + ty * math.cos(turn)),
        )
        for turn in (0.5, -0.5)  # the head's two strokes, ±29° off the line
    )
    return (
        f'<path class="c" stroke-width="2" d="M{_n(x0)} {_n(y0)}Q{_n(cx)} {_n(cy)} {_n(x1)} '
        f'{_n(y1)}M{_n(ax)} {_n(ay)}L{_n(x1)} {_n(y1)}L{_n(bx)} {_n(by)}"/>'
    )


def _view_box(extents: list[Point], view: View) -> tuple[float, float, float, float]:
    """Frame everything drawn in a 3:2 box that shows the floor, unless seen from above."""
    left = min(x for x, _ in extents) - MARGIN
    right = max(x for x, _ in extents) + MARGIN
    top = min(y for _, y in extents) - MARGIN
    bottom = FLOOR + 2.5 if view not in OVERHEAD else max(y for _, y in extents) + MARGIN
    width = max(right - left, (bottom - top) * WIDTH / HEIGHT, MIN_VIEW)
    height = width * HEIGHT / WIDTH
    y = bottom - height if view not in OVERHEAD else (top + bottom - height) / 2
    return (left + right - width) / 2, y, width, height


class _Drawing:
    """Write one figure's SVG: the body in the shown pose, marked up to move when animated."""

    def __init__(self, spec: FigureSpec, frame: Frame | None) -> None:
        self.spec = spec
        self.view = spec.start.view
        self.segments = _segments(self.view)
        self.scale = SCALE.get(self.view, 1.0)
        self.poses = _poses(spec)
        self.at = _place(spec)
        self.shown: Frame = frame or spec.hold
        self.pose = self.poses[self.shown]
        self.animated = frame is None
        self.motion = _Motion(self.animated)
        self.joints = {
            name: {
                k: (x * self.scale, y * self.scale)
                for k, (x, y) in joints(p, self.at[name]).items()
            }
            for name, p in self.poses.items()
        }
        self.extents: list[Point] = []
        for name, p in self.poses.items():
            left, top, right, bottom = _bounds(p)
            x, y = self.at[name]
            self.extents += [
                ((x + left) * self.scale, (y + top) * self.scale),
                ((x + right) * self.scale, (y + bottom) * self.scale),
            ]
        self.held = {
            p.at or "hand_n": p.kind for p in spec.props if p.kind in ("kettlebell", "box")
        }

    # each segment group's place inside its parent group, in every pose
    def _local(self, seg: str) -> Values:
        out = {}
        parent = self.segments[seg].parent
        for name, p in self.poses.items():
            if parent is None:  # the lumbar group is the whole body: it sits at the pelvis
                x, y = self.at[name]
                rot = -p.angles[seg]
            else:
                x = self.segments[seg].lateral
                y = self.segments[parent].length * p.k(parent) if self.segments[seg].at_end else 0.0
                rot = -(p.angles[seg] - p.angles[parent])
            out[name] = (x, y, _norm(rot), 1.0)
        return out

    def group(self, seg: str, inner: str, paint: str = "") -> str:
        values = self._local(seg)
        kind: Kind = "root" if seg == "lumbar" else "joint"
        cls = (paint + self.motion.classes(seg, values, kind)).strip()
        x, y, rot, _ = values[self.shown]
        parts = [f"translate({_n(x)} {_n(y)})"] if _n(x) != "0" or _n(y) != "0" else []
        parts += [f"rotate({_n(rot)})"] if _n(rot) != "0" else []
        attrs = (f' class="{cls}"' if cls else "") + (
            f' transform="{" ".join(parts)}"' if parts else ""
        )
        return f"<g{attrs}>{inner}</g>"

    def stroke(self, seg: str, paint: str = "") -> str:
        """Write a segment's stroke; when its visible length changes, scale it as it moves."""
        s = self.segments[seg]
        start = f"M{_n(-SOLE)} {_n(-FOOT_HEEL)}" if seg.startswith("foot") else "M0 0"
        shares = {n: p.k(seg) for n, p in self.poses.items()}
        longest = max(shares.values())
        extra = ""
        if self.animated and len(set(shares.values())) > 1:
            values = {n: (0.0, 0.0, 0.0, k / longest) for n, k in shares.items()}
            paint = (paint + self.motion.classes(seg + "-length", values, "scale")).strip()
            extra = f' transform="scale(1 {_n(shares[self.shown] / longest)})"'
            length = s.length * longest
        else:
            length = s.length * self.pose.k(seg)
        cls = f' class="{paint}"' if paint else ""
        return f'<path{cls} stroke-width="{_n(s.width)}" d="{start}V{_n(length)}"{extra}/>'

    def hand(self, side: str) -> str:
        seg = f"forearm_{side}"
        tip = (self.segments[seg].length + 1) * self.pose.k(seg)
        out = ""
        kind = self.held.get(f"hand_{side}")
        if kind:  # held things hang straight down whatever the forearm's direction
            thing = KETTLEBELL if kind == "kettlebell" else BOX
            upright = _n(self.pose.angles[seg])
            out = f'<g transform="translate(0 {_n(tip)}) rotate({upright})">{thing}</g>'
        return out + f'<path stroke-width="{HAND_W}" d="M0 {_n(tip)}h0"/>'

    def arm(self, side: str) -> str:
        forearm = self.group(f"forearm_{side}", self.stroke(f"forearm_{side}") + self.hand(side))
        return self.group(f"arm_{side}", self.stroke(f"arm_{side}") + forearm, side)

    def leg(self, side: str) -> str:
        foot = self.group(f"foot_{side}", self.stroke(f"foot_{side}"))
        shin = self.group(f"shin_{side}", self.stroke(f"shin_{side}") + foot)
        return self.group(f"thigh_{side}", self.stroke(f"thigh_{side}") + shin, side)

    def head(self) -> str:
        centre = _n(HEAD_AT * self.pose.k("head"))
        face = f'<path stroke-width="{_n(2 * _head_r(self.view))}" d="M0 {centre}h0"/>'
        if self.view == "top":  # from above, a nose shows which way the figure faces
            face += f'<path stroke-width="2.6" d="M0 {_n(TOP_HEAD_R)}v1.4"/>'
        return self.group("head", self.stroke("head") + face, "n" if self.view == "top" else "t")

    def body(self) -> str:
        """Write the body: the far leg, the trunk with the far arm and head, the near leg, the
        near arm (in a second copy of the thorax group), then any muscle region on top."""
        shoulders = hips = ""
        if self.view != "side":
            w = _n(self.segments["arm_f"].lateral)
            top = _n(self.segments["thorax"].length * self.pose.k("thorax"))
            shoulders = (
                f'<path class="t" stroke-width="{_n(SHOULDER_BAR[self.view])}"'
                f' d="M-{w} {top}H{w}"/>'
            )
            half, width = PELVIS_BAR
            hips = f'<path class="t" stroke-width="{_n(width)}" d="M{_n(-half)} 0H{_n(half)}"/>'
        thorax = self.group(
            "thorax", self.arm("f") + self.stroke("thorax", "t") + shoulders + self.head()
        )
        near_arm = self.group("thorax", self.arm("n"))
        lumbar = self.stroke("lumbar", "t") + hips
        if self.view == "top":  # a standing body seen from above hides its legs
            inner = self.leg("f") + self.leg("n") + lumbar + thorax + near_arm
        else:
            inner = self.leg("f") + lumbar + thorax + self.stick() + self.leg("n") + near_arm
            inner += self.regions()
        figure = self.group("lumbar", inner)
        return f'<g transform="scale({_n(self.scale)})">{figure}</g>' if self.scale != 1 else figure

    def stick(self) -> str:
        """Write a stick along the back, touching head, upper back and tailbone."""
        if not any(p.kind == "stick" for p in self.spec.props):
            return ""
        s = self.segments
        reach = s["lumbar"].length + s["thorax"].length + HEAD_AT + HEAD_R + 2
        x = s["lumbar"].width / 2 + 1.2
        return f'<path class="s" stroke-width="2.2" d="M{_n(x)} -5V{_n(reach)}"/>'

    def regions(self) -> str:
        """Write the muscle regions (see-through, so a hand resting on one still shows)."""
        out = ""
        for cue in self.spec.cues:
            shown = cue.when == "always" or self.shown == "end" or self.animated
            if cue.kind == "region" and shown:
                fade = ' class="o"' if self.animated and cue.when == "end" else ""
                out += f"<g{fade}>{REGIONS[cue.at]}</g>"
        return out

    def arrows(self) -> str:
        out = ""
        for cue in self.spec.cues:
            if cue.kind != "arrow":
                continue
            p0, p1 = self.joints["start"][cue.at], self.joints["end"][cue.at]
            if cue.vector is not None:
                p1 = (p0[0] + cue.vector[0], p0[1] + cue.vector[1])
            sx, sy = cue.shift
            a, b = (p0[0] + sx, p0[1] + sy), (p1[0] + sx, p1[1] + sy)
            self.extents += [a, b]
            out += _arrow(a, b, cue.bend)
        return out

    def props(self) -> tuple[str, str]:
        """Write the props behind the figure (mat, chair, step, wall) and in front (band), and
        add what they and held props take up to the extents."""
        back = front = ""
        body = list(self.extents)
        for prop in self.spec.props:
            at = self.joints.get(prop.frame, self.joints["start"])
            if prop.kind == "mat":
                left, right = min(x for x, _ in body) - 3, max(x for x, _ in body) + 3
                if self.view in OVERHEAD:
                    top, bottom = min(y for _, y in body) - 3, max(y for _, y in body) + 3
                else:
                    top, bottom = FLOOR - MAT, FLOOR + 0.5
                back += (
                    f'<rect class="mt" x="{_n(left)}" y="{_n(top)}" width="{_n(right - left)}"'
                    f' height="{_n(bottom - top)}" rx="{1.2 if bottom - top < 5 else 3}"/>'
                )
            elif prop.kind == "chair":  # its seat under the pelvis, its back behind
                px, py = at["pelvis"]
                seat, rear, edge = py + 5.6, px - 7, px + 5.5
                back += (
                    f'<path class="s" stroke-width="2.4" d="M{_n(rear)} {_n(seat - 21)}'
                    f'V{_n(FLOOR)}M{_n(rear)} {_n(seat + 1)}H{_n(edge)}V{_n(FLOOR)}"/>'
                )
                self.extents += [(rear - 2, seat - 22), (edge + 2, FLOOR)]
            elif prop.kind == "step":  # under the foot it names
                x, y = at[prop.at or "ankle_n"]
                top = y + ANKLE_UP
                back += (
                    f'<rect class="p" stroke-width="1.6" x="{_n(x - 8)}" y="{_n(top)}" width="24"'
                    f' height="{_n(FLOOR - top + 0.5)}" rx="1"/>'
                )
                self.extents += [(x - 9, top), (x + 17, FLOOR)]
            elif prop.kind == "wall":  # just in front of the hand it names
                x = at[prop.at or "hand_n"][0] + 3.5
                top = min(y for _, y in body)
                back += f'<path class="s" stroke-width="3" d="M{_n(x)} {_n(top)}V{_n(FLOOR)}"/>'
                self.extents += [(x - 2, top), (x + 2, FLOOR)]
            elif prop.kind == "band":
                front += self.band()
            else:  # held: kettlebell, box
                for frame in self.joints.values():
                    hx, hy = frame[prop.at or "hand_n"]
                    if prop.kind == "kettlebell":
                        self.extents += [(hx - 5, hy), (hx + 5, hy + 12.5)]
                    else:
                        self.extents += [(hx - 7.5, hy - 5.5), (hx + 7.5, hy + 5.5)]
        return back, front

    def band(self) -> str:
        """Write a band from a post at the figure's side, at chest height, to its hands."""

        def hands(frame: str) -> Point:
            (ax, ay), (bx, by) = self.joints[frame]["hand_n"], self.joints[frame]["hand_f"]
            return (ax + bx) / 2, (ay + by) / 2

        sx, sy = hands("start")
        px, py = sx - 24, sy
        self.extents += [(px - 4, py - 4), (px + 4, py + 4)]
        post = f'<circle class="k" stroke="none" cx="{_n(px)}" cy="{_n(py)}" r="3.2"/>'
        if not self.animated:
            hx, hy = hands(self.shown)
            line = f"M{_n(px)} {_n(py)}L{_n(hx)} {_n(hy)}"
            return post + f'<path class="w" stroke-width="2.2" d="{line}"/>'
        longest = max(math.dist((px, py), hands(f)) for f in self.poses)
        values = {}
        for frame in self.poses:
            hx, hy = hands(frame)
            angle = -math.degrees(math.atan2(hx - px, hy - py))
            values[frame] = (px, py, _norm(angle), math.dist((px, py), (hx, hy)) / longest)
        cls = self.motion.classes("band", values, "band")
        _, _, rot, share = values[self.shown]
        return post + (
            f'<g class="w{cls}" transform="translate({_n(px)} {_n(py)}) rotate({_n(rot)})'
            f' scale(1 {_n(share)})"><path stroke-width="2.2" d="M0 0V{_n(longest)}"/></g>'
        )


def render_figure(
    spec: FigureSpec,
    *,
    frame: Frame | None = None,
    tempo_seconds: float | None = None,
    hold_seconds: float | None = None,
    title: str | None = None,
) -> str:
    """Render the figure as standalone SVG: moving, or still with frame="start" or "end".

    `tempo_seconds` is the move one way and `hold_seconds` the rest in the held pose (both
    default to the spec's); `title` replaces the description, for a translation."""
    if frame not in (None, "start", "end"):
        raise ValueError(f"frame must be 'start', 'end' or None, not {frame!r}")
    tempo = spec.tempo_seconds if tempo_seconds is None else tempo_seconds
    tempo = min(MAX_TEMPO, max(MIN_TEMPO, tempo))
    hold = spec.hold_seconds if hold_seconds is None else hold_seconds
    hold = min(MAX_HOLD, max(0.0, hold))
    drawing = _Drawing(spec, frame)
    figure = drawing.body()
    back, front = drawing.props()
    arrows = drawing.arrows()
    x, y, width, height = _view_box(drawing.extents, drawing.view)
    floor = ""
    if drawing.view not in OVERHEAD:
        line = f"M{_n(x)} {_n(FLOOR + 0.75)}H{_n(x + width)}"
        floor = f'<path class="g" stroke-width="1.5" d="{line}"/>'
    css = STYLE
    if drawing.animated:
        total, times = _timeline(spec, tempo, hold)
        css += drawing.motion.css(total, times, spec.mid is not None)
        if ' class="o"' in figure:
            t0, t1, t2 = (_n(t) for t in times)
            css += (
                f".o{{animation:o {_n(total)}s ease-in-out infinite}}"
                f"@keyframes o{{0%,{t0}%,to{{opacity:0}}{t1}%,{t2}%{{opacity:1}}}}"
            )
        css += STILL
    text = _escape(title if title is not None else spec.description)
    box = " ".join(_n(v) for v in (x, y, width, height))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{box}" width="{WIDTH}"'
        f' height="{HEIGHT}" role="img" fill="none" stroke-linecap="round"'
        f' stroke-linejoin="round"><title>{text}</title><style>{css}</style>'
        f"{floor}{back}{figure}{front}{arrows}</svg>"
    )


# --- plain data -----------------------------------------------------------------------------------


def to_dict(spec: FigureSpec) -> dict[str, Any]:
    """Return the spec as JSON-ready dicts and lists."""

    def pose(p: Pose | None) -> dict[str, Any] | None:
        if p is None:
            return None
        return {
            "view": p.view,
            "angles": dict(p.angles),
            "lengths": dict(p.lengths),
            "rise": p.rise,
        }

    return {
        "description": spec.description,
        "start": pose(spec.start),
        "end": pose(spec.end),
        "mid": pose(spec.mid),
        "hold": spec.hold,
        "anchor": spec.anchor,
        "props": [{"kind": p.kind, "at": p.at, "frame": p.frame} for p in spec.props],
        "cues": [
            {
                "kind": c.kind,
                "at": c.at,
                "shift": list(c.shift),
                "bend": c.bend,
                "vector": list(c.vector) if c.vector is not None else None,
                "when": c.when,
            }
            for c in spec.cues
        ],
        "tempo_seconds": spec.tempo_seconds,
        "hold_seconds": spec.hold_seconds,
        "pause_seconds": spec.pause_seconds,
    }


def _choice(value: Any, allowed: tuple[str, ...], what: str) -> Any:
    if value not in allowed:
        raise ValueError(f"unknown {what} {value!r}")
    return value


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number")
    return float(value)


def _pair(value: Any, what: str) -> Point:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ValueError(f"{what} must be two numbers")
    return _number(value[0], what), _number(value[1], what)


def from_dict(data: dict[str, Any]) -> FigureSpec:
    """Rebuild a spec written by `to_dict`; raise ValueError for anything that would not draw
    (an unknown view, prop or joint, a pose missing a segment, a number that is not one)."""
    names = set(joints(Pose("side", dict.fromkeys(SEGMENTS, 0.0)))) | set(SEGMENTS)

    def pose(d: Any) -> Pose:
        if not isinstance(d, dict) or not isinstance(d.get("angles"), dict):
            raise ValueError("a pose needs its angles")
        view = _choice(d.get("view"), get_args(View), "view")
        angles = {str(k): _number(v, f"angle {k}") for k, v in d["angles"].items()}
        lengths = {str(k): _number(v, f"length {k}") for k, v in (d.get("lengths") or {}).items()}
        if set(angles) != set(SEGMENTS) or not set(lengths) <= set(SEGMENTS):
            raise ValueError("a pose gives a direction for every segment and nothing else")
        if any(not 0 <= v <= 1 for v in lengths.values()):
            raise ValueError("lengths are shares between 0 and 1")
        return Pose(view, angles, lengths, _number(d.get("rise", 0.0), "rise"))

    if not isinstance(data, dict) or not isinstance(data.get("description"), str):
        raise ValueError("a figure needs a description")
    start, end = pose(data.get("start")), pose(data.get("end"))
    mid = pose(data["mid"]) if data.get("mid") is not None else None
    if len({p.view for p in (start, end, mid) if p is not None}) != 1:
        raise ValueError("all poses of a figure are seen from the same side")
    props = []
    for p in data.get("props") or []:
        at = str(p.get("at") or "")
        if at and at not in names:
            raise ValueError(f"unknown joint {at!r}")
        props.append(
            Prop(
                _choice(p.get("kind"), get_args(PropKind), "prop"),
                at,
                _choice(p.get("frame", "start"), ("start", "end"), "frame"),
            )
        )
    cues = []
    for c in data.get("cues") or []:
        kind = _choice(c.get("kind"), ("arrow", "region"), "cue")
        at = _choice(c.get("at"), tuple(REGIONS) if kind == "region" else tuple(names), "cue place")
        vector = c.get("vector")
        cues.append(
            Cue(
                kind,
                at,
                _pair(c.get("shift", (0.0, 0.0)), "shift"),
                _number(c.get("bend", 0.0), "bend"),
                _pair(vector, "vector") if vector is not None else None,
                _choice(c.get("when", "always"), ("always", "end"), "when"),
            )
        )
    return FigureSpec(
        description=data["description"],
        start=start,
        end=end,
        mid=mid,
        hold=_choice(data.get("hold", "end"), ("start", "end"), "hold"),
        anchor=_choice(data.get("anchor", "pelvis"), tuple(names), "anchor"),
        props=tuple(props),
        cues=tuple(cues),
        tempo_seconds=_number(data.get("tempo_seconds", 2.0), "tempo_seconds"),
        hold_seconds=_number(data.get("hold_seconds", 0.5), "hold_seconds"),
        pause_seconds=_number(data.get("pause_seconds", 0.5), "pause_seconds"),
    )
