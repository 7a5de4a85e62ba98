"""The built-in pose library: named body positions a clinic can draw its own exercises from.

Each pose is plain data (`render.Pose`): every segment's direction on the page, in degrees — 0
down the page, 90 the way the figure faces, 180 up — and, where a segment points towards or away
from you, the share of its length that shows. They are authored with small helpers: `pose()`
places hands and feet by inverse kinematics (a target relative to the pelvis, with the floor
below it), `level()` and `rest_on()` tilt a body until two parts touch the floor together, so
feet stay flat, hands stay under shoulders and a propping elbow rests beside the hip.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from app.figures.render import (
    ANKLE_UP,
    HAND_W,
    SEGMENTS,
    Pose,
    View,
    _norm,
    _segments,
    joints,
    lowest_of,
    lowest_point,
)

HAND_UP = HAND_W / 2  # a hand's centre above the floor it rests on
Point = tuple[float, float]


def _ik(origin: Point, target: Point, upper: float, lower: float, bend: int) -> tuple[float, float]:
    """Return the two directions that put a limb's end on `target`.

    bend=+1 bends like a knee (the lower part turns back), -1 like an elbow (it turns forward).
    Out-of-reach targets straighten the limb towards them."""
    dx, dy = target[0] - origin[0], target[1] - origin[1]
    reach = math.hypot(dx, dy)
    reach = min(max(reach, abs(upper - lower) + 0.01), upper + lower - 0.01)
    base = math.degrees(math.atan2(dx, dy))
    alpha = math.degrees(math.acos((upper**2 + reach**2 - lower**2) / (2 * upper * reach)))
    inner = math.degrees(math.acos((upper**2 + lower**2 - reach**2) / (2 * upper * lower)))
    bent = 180 - inner
    first = base + bend * alpha
    return round(first, 1), round(first - bend * bent, 1)


def pose(
    view: View = "side",
    *,
    trunk: float | tuple[float, float],
    head: float | None = None,
    lengths: dict[str, float] | None = None,
    rise: float = 0.0,
    bends: dict[str, int] | None = None,
    **limbs: float | tuple[float, float],
) -> Pose:
    """Build a pose from trunk and head directions and, per limb, either directions or a target.

    Limb keywords, for side n (near) and f (far): arm_n=(upper, fore) or hand_n=(x, y);
    leg_n=(thigh, shin) or ankle_n=(x, y); foot_n=direction (default: flat, at right angles
    to the shin, pointing forward)."""
    lumbar, thorax = trunk if isinstance(trunk, tuple) else (trunk, trunk)
    angles: dict[str, float] = dict.fromkeys(SEGMENTS, 0.0)
    angles.update(lumbar=lumbar, thorax=thorax, head=thorax if head is None else head)
    lengths = dict(lengths or {})
    bends = bends or {}
    base = Pose(view, dict(angles), lengths, rise)
    at = joints(base)
    seg = _segments(view)
    for side in ("n", "f"):
        k = base.k
        if f"point_{side}" in limbs:  # a straight arm aimed at a point
            px, py = limbs[f"point_{side}"]  # type: ignore[misc]
            sx, sy = at[f"shoulder_{side}"]
            aim = round(math.degrees(math.atan2(px - sx, py - sy)), 1)
            angles[f"arm_{side}"] = angles[f"forearm_{side}"] = aim
        elif f"arm_{side}" in limbs:
            angles[f"arm_{side}"], angles[f"forearm_{side}"] = limbs[f"arm_{side}"]  # type: ignore[misc]
        elif f"hand_{side}" in limbs:
            angles[f"arm_{side}"], angles[f"forearm_{side}"] = _ik(
                at[f"shoulder_{side}"],
                limbs[f"hand_{side}"],  # type: ignore[arg-type]
                seg[f"arm_{side}"].length * k(f"arm_{side}"),
                seg[f"forearm_{side}"].length * k(f"forearm_{side}") + 1,
                bends.get(f"arm_{side}", -1),
            )
        if f"leg_{side}" in limbs:
            angles[f"thigh_{side}"], angles[f"shin_{side}"] = limbs[f"leg_{side}"]  # type: ignore[misc]
        elif f"ankle_{side}" in limbs:
            angles[f"thigh_{side}"], angles[f"shin_{side}"] = _ik(
                at[f"hip_{side}"],
                limbs[f"ankle_{side}"],  # type: ignore[arg-type]
                seg[f"thigh_{side}"].length * k(f"thigh_{side}"),
                seg[f"shin_{side}"].length * k(f"shin_{side}"),
                bends.get(f"leg_{side}", 1),
            )
        foot = limbs.get(f"foot_{side}")
        angles[f"foot_{side}"] = angles[f"shin_{side}"] + 90 if foot is None else foot  # type: ignore[assignment]
    return Pose(view, {k: round(v, 1) for k, v in angles.items()}, lengths, rise)


def vary(base: Pose, **changes: object) -> Pose:
    """Return `base` with some parts changed, taking the same keywords as `pose()`."""
    a = base.angles
    kept: dict[str, object] = {"trunk": (a["lumbar"], a["thorax"]), "head": a["head"]}
    for side in ("n", "f"):
        kept[f"arm_{side}"] = (a[f"arm_{side}"], a[f"forearm_{side}"])
        kept[f"leg_{side}"] = (a[f"thigh_{side}"], a[f"shin_{side}"])
        kept[f"foot_{side}"] = a[f"foot_{side}"]
        for limb, target in (("arm", "hand"), ("arm", "point"), ("leg", "ankle")):
            if f"{target}_{side}" in changes:
                kept.pop(f"{limb}_{side}", None)
    if "trunk" in changes and "head" not in changes:
        kept.pop("head")
    merged = {"view": base.view, "lengths": dict(base.lengths), "rise": base.rise, **kept}
    merged.update(changes)
    return pose(**merged)  # type: ignore[arg-type]


def level(
    make: Callable[[float], Pose], a: str, b: str, lo: float, hi: float, drop: float = 0.0
) -> Pose:
    """Find the pose (by bisection on its one parameter) where joint a is `drop` below joint b,
    so two parts of different thickness rest on the same floor."""

    def gap(t: float) -> float:
        at = joints(make(t))
        return at[a][1] - at[b][1] - drop

    return _bisect(make, gap, lo, hi)


def rest_on(make: Callable[[float], Pose], support: tuple[str, ...], lo: float, hi: float) -> Pose:
    """Find the pose where the `support` segments reach exactly as low as the rest of the body
    (a propping elbow and a resting hip both on the floor)."""

    def gap(t: float) -> float:
        p = make(t)
        return lowest_of(p, support) - lowest_point(p, support)

    return _bisect(make, gap, lo, hi)


def _bisect(
    make: Callable[[float], Pose], gap: Callable[[float], float], lo: float, hi: float
) -> Pose:
    g_lo = gap(lo)
    if (g_lo > 0) == (gap(hi) > 0):
        raise ValueError("no solution in range")
    for _ in range(30):
        mid = (lo + hi) / 2
        g = gap(mid)
        if (g > 0) == (g_lo > 0):
            lo, g_lo = mid, g
        else:
            hi = mid
    return make(round((lo + hi) / 2, 1))


# --- lying on the back (head to the left, the body's front up) --------------------------------

SUPINE = -90  # trunk pointing left along the floor
H_LYING = 5.0  # pelvis above the floor, lying
HOOK_ANKLE = (19.5, H_LYING - ANKLE_UP)
ARMS_BY_SIDES = {"arm_n": (92.0, 92.0), "arm_f": (92.0, 92.0)}

supine_knees_bent = pose(
    trunk=SUPINE, ankle_n=HOOK_ANKLE, ankle_f=HOOK_ANKLE, foot_n=90, foot_f=90, **ARMS_BY_SIDES
)
_LEG_ON_FLOOR = (85.3, 87.2)  # thigh and shin resting on the floor, toes up
supine_legs_straight = pose(
    trunk=SUPINE,
    leg_n=_LEG_ON_FLOOR,
    leg_f=_LEG_ON_FLOOR,
    foot_n=165,
    foot_f=165,
    **ARMS_BY_SIDES,
)
supine_table_top = pose(
    trunk=SUPINE, arm_n=(180, 180), arm_f=(180, 180), leg_n=(180, 90), leg_f=(180, 90)
)


def _bridge(tilt: float, single: bool = False) -> Pose:
    """Return a bridge with the trunk tilted up `tilt` degrees from the floor, feet planted."""
    lumbar = SUPINE + tilt
    hip_h = H_LYING + 19 * math.sin(math.radians(tilt))
    ankle = (HOOK_ANKLE[0], hip_h - ANKLE_UP)
    near = {"leg_n": (lumbar + 180, lumbar + 180), "foot_n": lumbar + 250} if single else {}
    arms = {"point_n": (2.0, hip_h - HAND_UP), "point_f": (2.0, hip_h - HAND_UP)}
    return pose(
        trunk=lumbar,
        head=SUPINE,
        **{"ankle_n": ankle, "foot_n": 90, **near},
        ankle_f=ankle,
        foot_f=90,
        **arms,
    )


bridge = _bridge(19)
single_leg_bridge = _bridge(19, single=True)
supine_one_leg_straight = pose(
    trunk=SUPINE,
    ankle_f=HOOK_ANKLE,
    foot_f=90,
    leg_n=(105, 105),
    foot_n=195,
    **ARMS_BY_SIDES,
)

# --- lying face down and on hands and knees (head to the right, the body's front down) -------

PRONE = 90
_LOW_BACK = (2.5, -H_LYING - HAND_UP + 1.0)  # fingertips resting just beside the lower spine
prone = pose(
    trunk=PRONE,
    leg_n=(-85.3, -86.8),
    leg_f=(-85.3, -86.8),
    foot_n=-84,
    foot_f=-84,
    hand_n=_LOW_BACK,
    hand_f=_LOW_BACK,
    # the forearms cross the back towards the spine, so from the side they look short
    lengths={"forearm_n": 0.6, "forearm_f": 0.6},
)


def _forearms(tilt: float) -> Pose:
    """Return a pose propped on the forearms, body straight, tilted `tilt` up to the head."""
    return pose(
        trunk=PRONE + tilt,
        head=PRONE + tilt + 6,
        arm_n=(0, 90),
        arm_f=(0, 90),
        leg_n=(PRONE + tilt - 180, PRONE + tilt - 180),
        leg_f=(PRONE + tilt - 180, PRONE + tilt - 180),
        foot_n=0,
        foot_f=0,
    )


plank = level(_forearms, "elbow_n", "toe_n", -10, 20)
prone_on_forearms = pose(
    trunk=PRONE + 19,
    head=PRONE + 22,
    arm_n=(0, 90),
    arm_f=(0, 90),
    leg_n=(-85.3, -86.8),
    leg_f=(-85.3, -86.8),
    foot_n=-84,
    foot_f=-84,
)

_knee_down = {"leg_n": (0, -90), "leg_f": (0, -90), "foot_n": -88, "foot_f": -88}
HAND_BELOW_KNEE = 3.8 - HAND_UP  # the hand is thinner than the knee, so its centre sits lower


def _quadruped(
    lumbar: float, thorax: float, head: float, arm: float = 0.0, **limbs: object
) -> Pose:
    """Return hands and knees with straight supporting arms at direction `arm`."""
    return pose(
        trunk=(lumbar, thorax),
        head=head,
        **{"arm_n": (arm, arm), "arm_f": (arm, arm), **_knee_down, **limbs},  # type: ignore[arg-type]
    )


def _on_all_fours(lumbar: float, thorax: float, head: float) -> Pose:
    """Keep hands and knees where `quadruped` puts them while the back bends: solve the arm
    and thigh directions as one two-link chain from the shoulder, through the pelvis, to the
    knee (straight arm 21.5, thigh 14.5)."""
    base = joints(quadruped)
    reach = (base["hand_f"][0] - base["knee_f"][0], base["hand_f"][1] - base["knee_f"][1])
    shoulder = joints(_quadruped(lumbar, thorax, head))["shoulder_f"]
    # from the hand, go up the arm to the shoulder, back along the spine to the pelvis, down
    # the thigh to the knee: hand → knee is -reach, so arm(+) and thigh(-) must make this
    target = (reach[0] - shoulder[0], reach[1] - shoulder[1])
    arm, thigh_back = _ik((0.0, 0.0), target, 21.5, 14.5, 1)
    thigh = round(_norm(thigh_back - 180), 1)
    return _quadruped(lumbar, thorax, head, arm, leg_n=(thigh, -90), leg_f=(thigh, -90))


# the trunk rises to the shoulders just enough for straight arms to stand under them
quadruped = level(lambda t: _quadruped(t, t, t + 2), "hand_f", "knee_f", 90, 120, HAND_BELOW_KNEE)
_QUAD = quadruped.angles["lumbar"]
# the lower and upper back bend by amounts that keep the shoulders at the same height
quadruped_round = _on_all_fours(_QUAD + 22, _QUAD - 17.6, 30)
quadruped_dip = _on_all_fours(_QUAD - 14, _QUAD + 11.3, _QUAD + 26)
bird_dog = _quadruped(_QUAD, _QUAD, _QUAD + 2, arm_n=(90, 90), leg_f=(-90, -90), foot_f=0)

# --- standing, sitting, bending (facing right) ----------------------------------------------

UP = 180
H_STANDING = 14.5 + 14.5 + ANKLE_UP
standing = pose(trunk=UP, arm_n=(4, 14), arm_f=(-4, 8), leg_n=(0, 0), leg_f=(0, 0))
standing_arms_crossed = pose(trunk=UP, arm_n=(12, 160), arm_f=(8, 156), leg_n=(0, 0), leg_f=(0, 0))


def _stride(lead: str) -> Pose:
    """Return mid-stride with the `lead` leg forward, arms swinging the other way."""
    trail = "f" if lead == "n" else "n"
    h = H_STANDING - 1.2
    return pose(
        trunk=UP - 4,
        **{
            f"ankle_{lead}": (8.5, h - ANKLE_UP),
            f"ankle_{trail}": (-9.5, h - ANKLE_UP - 2.2),
            f"foot_{trail}": 60,
            f"foot_{lead}": 100,
            f"arm_{lead}": (-22, -6),
            f"arm_{trail}": (24, 50),
        },
    )


stride_near_forward = _stride("n")
stride_far_forward = _stride("f")


def _sitting(trunk: float, rise_hips: float = 0.0) -> Pose:
    h = 19.9 + rise_hips
    return pose(
        trunk=trunk,
        arm_n=(12, 160),
        arm_f=(8, 156),
        ankle_n=(11.8, h - ANKLE_UP),
        ankle_f=(11.8, h - ANKLE_UP),
        foot_n=90,
        foot_f=90,
    )


sitting = _sitting(UP)
sitting_leaning_forward = _sitting(138, 0.2)


def _hinge(trunk: float, h: float, ankle_x: float, **arms: object) -> Pose:
    """Return a hip hinge: the trunk `trunk` degrees, pelvis `h` up, feet at `ankle_x`."""
    ankle = (ankle_x, h - ANKLE_UP)
    return pose(
        trunk=trunk,
        ankle_n=ankle,
        ankle_f=ankle,
        foot_n=90,
        foot_f=90,
        **arms,  # type: ignore[arg-type]
    )


hip_hinge = _hinge(128, 29.5, 6.0, arm_n=(20, 24), arm_f=(16, 20))
deadlift_bottom = _hinge(112, 24.0, 9.5, arm_n=(2, 4), arm_f=(-2, 2))
squat_lift = _hinge(126, 17.0, 13.5, arm_n=(8, 14), arm_f=(4, 10))


def _split(h: float, front: float, back: float, trunk: float = UP) -> Pose:
    """Return a split stance: near foot `front` ahead, far foot `back` behind on its toes."""
    return pose(
        trunk=trunk,
        ankle_n=(front, h - ANKLE_UP),
        foot_n=90,
        ankle_f=(back, h - 5.6),
        foot_f=28,
        arm_n=(6, 20),
        arm_f=(-4, 12),
    )


split_stance = _split(H_STANDING - 1.5, 10.0, -12.0)
split_squat_low = _split(H_STANDING - 13.0, 12.5, -10.5)

STEP = 9.0
step_up_start = pose(
    trunk=UP - 10,
    ankle_n=(11.5, H_STANDING - 2.5 - ANKLE_UP - STEP),
    foot_n=90,
    ankle_f=(-2.0, H_STANDING - 2.5 - ANKLE_UP),
    foot_f=90,
    arm_n=(-12, -2),
    arm_f=(14, 30),
)
standing_on_step = pose(
    trunk=UP - 2,
    ankle_n=(0.5, H_STANDING - 0.3 - ANKLE_UP),
    foot_n=90,
    leg_f=(28, -32),
    arm_n=(6, 14),
    arm_f=(-4, 8),
    rise=STEP,
)

# --- seen from the front (side-lying figures face you, head to the left) ---------------------

standing_front = pose(
    "front",
    trunk=UP,
    arm_n=(7, 4),
    arm_f=(-7, -4),
    leg_n=(1.5, 0),
    leg_f=(-1.5, 0),
    foot_n=12,
    foot_f=-12,
    lengths={"foot_n": 0.45, "foot_f": 0.45},
)
_shins_back = {"shin_n": 0.4, "shin_f": 0.4, "foot_n": 0.3, "foot_f": 0.3}
_straight_feet = {"foot_n": 0.4, "foot_f": 0.4}


def _side(tilt: float, knees: bool, lifted: bool) -> Pose:
    """Return lying on the right side propped on the elbow, facing you, head to the left.

    Lifted, the body is one straight line rising `tilt` degrees from the knees or feet to the
    shoulders; down, the hips rest on the floor and the waist sags, so only the upper back
    rises `tilt` degrees. Bent knees point the shins away from you (drawn short)."""
    body = SUPINE - tilt
    thigh = body + 180 if lifted else 92.0
    shin = 160.0 if knees else thigh
    lengths = {"forearm_f": 0.0, **(_shins_back if knees else _straight_feet)}
    return pose(
        "front",
        trunk=body,
        head=body - 8,
        arm_f=(0, 0),
        arm_n=(body + 176, body + 184),
        leg_n=(thigh, shin),
        leg_f=(thigh, shin),
        foot_n=shin,
        foot_f=shin,
        lengths=lengths,
    )


_ELBOW = ("arm_f", "forearm_f")
side_lying_knees_bent = rest_on(lambda t: _side(t, True, False), _ELBOW, 0, 60)
side_lying_legs_straight = rest_on(lambda t: _side(t, False, False), _ELBOW, 0, 60)
side_bridge_knees = rest_on(lambda t: _side(t, True, True), _ELBOW, 0, 40)
side_plank = rest_on(lambda t: _side(t, False, True), _ELBOW, 0, 40)

# --- seen from above ---------------------------------------------------------------------------

_ABOVE_ANKLE_N, _ABOVE_ANKLE_F = (24.0, -4.2), (24.0, 4.2)
_ABOVE_BODY = {"trunk": SUPINE, "arm_n": (97, 91), "arm_f": (83, 89), "foot_n": 90, "foot_f": 90}
_ABOVE_BENDS = {"leg_f": -1}  # the right knee is drawn bending towards the bottom of the page


def _above(open_k: float) -> Pose:
    """Return lying face up with knees bent, seen from above; the left knee shows `open_k` of
    its thigh and shin (more as it falls out to the side and lower)."""
    return pose(
        "above",
        **_ABOVE_BODY,  # type: ignore[arg-type]
        ankle_n=_ABOVE_ANKLE_N,
        ankle_f=_ABOVE_ANKLE_F,
        bends=_ABOVE_BENDS,
        lengths={"thigh_n": open_k, "shin_n": open_k, "thigh_f": 0.82, "shin_f": 0.82},
    )


supine_from_above = _above(0.82)
knee_fallen_out_from_above = _above(0.97)

# standing seen from above, facing down the page: trunk, head and legs point at you (no
# length) and hide under the shoulders
_UPRIGHT = dict.fromkeys(
    ("lumbar", "thorax", "head", "thigh_n", "shin_n", "foot_n", "thigh_f", "shin_f", "foot_f"),
    0.0,
)


def _from_above(reach: float, upper_k: float) -> Pose:
    """Return standing seen from above, facing down the page, hands together `reach` in front;
    upper arms that hang down show `upper_k` of their length."""
    return pose(
        "top",
        trunk=0,
        hand_n=(-1.4, reach),
        hand_f=(1.4, reach),
        bends={"arm_f": 1},  # both elbows bow outwards
        leg_n=(0, 0),
        leg_f=(0, 0),
        foot_n=0,
        foot_f=0,
        lengths=_UPRIGHT | {"arm_n": upper_k, "arm_f": upper_k},
    )


hands_at_chest_from_above = _from_above(8.5, 0.3)
arms_forward_from_above = _from_above(20.6, 1.0)

POSES: dict[str, Pose] = {
    "standing": standing,
    "standing-arms-crossed": standing_arms_crossed,
    "stride-near-leg-forward": stride_near_forward,
    "stride-far-leg-forward": stride_far_forward,
    "sitting": sitting,
    "sitting-leaning-forward": sitting_leaning_forward,
    "hip-hinge": hip_hinge,
    "deep-hip-hinge": deadlift_bottom,
    "squat-lift": squat_lift,
    "split-stance": split_stance,
    "split-squat-low": split_squat_low,
    "foot-on-step": step_up_start,
    "standing-on-step": standing_on_step,
    "supine-knees-bent": supine_knees_bent,
    "supine-legs-straight": supine_legs_straight,
    "supine-one-leg-straight": supine_one_leg_straight,
    "supine-table-top": supine_table_top,
    "bridge": bridge,
    "single-leg-bridge": single_leg_bridge,
    "prone": prone,
    "prone-on-forearms": prone_on_forearms,
    "plank": plank,
    "quadruped": quadruped,
    "quadruped-back-rounded": quadruped_round,
    "quadruped-back-dipped": quadruped_dip,
    "bird-dog": bird_dog,
    "standing-front": standing_front,
    "side-lying-knees-bent": side_lying_knees_bent,
    "side-bridge-knees": side_bridge_knees,
    "side-lying-legs-straight": side_lying_legs_straight,
    "side-plank": side_plank,
    "supine-from-above": supine_from_above,
    "knee-fallen-out-from-above": knee_fallen_out_from_above,
    "hands-at-chest-from-above": hands_at_chest_from_above,
    "arms-forward-from-above": arms_forward_from_above,
}
