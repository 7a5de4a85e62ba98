"""Figure specs for the built-in exercises, keyed by their slug in low_back_core_stability.json.

Each follows the exercise's steps in CLINICAL.md §7: the start pose is the position the steps
set up, the end pose is where the movement arrives and, for a hold, what is held. Left and right
follow the steps (the bird dog reaches with the near arm and the far leg). Holds and tempos here
are the built-in dosages; a route passes the patient's own dosage instead.
"""

from __future__ import annotations

import math

from app.figures import poses as P
from app.figures.poses import H_LYING, HAND_UP, HOOK_ANKLE, vary
from app.figures.render import ANKLE_UP, Cue, FigureSpec, Pose, Prop

MAT = Prop("mat")


def _on_stick(base: Pose) -> Pose:
    """Put the near hand on the stick behind the neck and the far hand on it at the low back."""
    lumbar = base.angles["lumbar"]
    rho = math.radians(-lumbar)
    # the stick runs along the back, 6.2 behind the trunk's centre line (render draws it there)

    def on_stick(t: float) -> tuple[float, float]:
        return (6.2 * math.cos(rho) - t * math.sin(rho), 6.2 * math.sin(rho) + t * math.cos(rho))

    return vary(base, hand_n=on_stick(21.0), hand_f=on_stick(2.5), bends={"arm_f": -1})


def _front_walk(lead: str, loaded: tuple[str, ...]) -> Pose:
    """Return walking towards you: the `lead` knee bends forward so its foot lifts."""
    trail = "f" if lead == "n" else "n"
    arms = {
        side: ((5.0, 2.0) if side == "n" else (-5.0, -2.0))
        if side in loaded
        else ((12.0, 6.0) if side == "n" else (-12.0, -6.0))
        for side in ("n", "f")
    }
    return vary(
        P.standing_front,
        arm_n=arms["n"],
        arm_f=arms["f"],
        lengths={
            f"thigh_{lead}": 0.96,
            f"shin_{lead}": 0.8,
            f"thigh_{trail}": 1.0,
            f"shin_{trail}": 1.0,
            "foot_n": 0.45,
            "foot_f": 0.45,
        },
    )


# --- the exercise-specific poses -------------------------------------------------------------

BELLY_HAND, CHEST_HAND = (-4.5, -7.4), (-13.0, -7.8)
breath_out = vary(P.supine_knees_bent, hand_n=BELLY_HAND, hand_f=CHEST_HAND)
breath_in = vary(
    P.supine_knees_bent, hand_n=(BELLY_HAND[0], BELLY_HAND[1] - 2.6), hand_f=CHEST_HAND
)

# the low back arched off the floor, drawn larger than life so the rock shows
pelvis_arched = vary(P.supine_knees_bent, trunk=(-106.0, -77.0), head=-90)

heel_out = vary(P.supine_knees_bent, ankle_n=(27.4, HOOK_ANKLE[1]), foot_n=100)
heel_half = vary(P.supine_knees_bent, ankle_n=(24.0, HOOK_ANKLE[1]), foot_n=96)

# hands flat under the small of the back: the arms lie out to the side, so they look shorter
_UNDER_BACK = (-4.0, H_LYING - HAND_UP)
_ARMS_ASIDE = {"arm_n": 0.72, "forearm_n": 0.72, "arm_f": 0.72, "forearm_f": 0.72}
curl_up_start = vary(
    P.supine_legs_straight,
    ankle_n=HOOK_ANKLE,
    foot_n=90,
    hand_n=_UNDER_BACK,
    hand_f=_UNDER_BACK,
    lengths=_ARMS_ASIDE,
)
curl_up_top = vary(
    curl_up_start, trunk=(-90.0, -104.0), head=-104, hand_n=_UNDER_BACK, hand_f=_UNDER_BACK
)

dead_bug_reach = vary(P.supine_table_top, arm_n=(-96.0, -96.0), leg_f=(103.0, 97.0), foot_f=170)

stick_upright = _on_stick(P.standing)
stick_hinged = _on_stick(P.hip_hinge)

_BELL = (12.0, 24.0 - 12.6)  # hands on the handle of a kettlebell standing between the feet
bell_down = vary(P.deadlift_bottom, hand_n=_BELL, hand_f=_BELL)
bell_up = vary(P.standing, arm_n=(5.0, 5.0), arm_f=(3.0, 3.0))

_BOX = (21.0, 17.0 - 5.4)  # hands on the sides of a box on the floor in front of the feet
box_down = vary(P.squat_lift, hand_n=_BOX, hand_f=_BOX)
box_up = vary(P.standing, hand_n=(9.5, -5.0), hand_f=(9.5, -5.0))

lunge_low = P.split_squat_low
feet_together = vary(P.standing, ankle_f=(0.0, P.H_STANDING - ANKLE_UP), foot_f=90)

walk_n, walk_f = _front_walk("n", ()), _front_walk("f", ())
suitcase_n, suitcase_f = _front_walk("n", ("n",)), _front_walk("f", ("n",))
farmer_n, farmer_f = _front_walk("n", ("n", "f")), _front_walk("f", ("n", "f"))

# --- the figures --------------------------------------------------------------------------------

BUILTIN: dict[str, FigureSpec] = {
    "diaphragmatic-breathing": FigureSpec(
        "Lying on your back with knees bent, one hand on your chest and one on your belly, "
        "breathe in slowly so your belly rises under your hand, then breathe out.",
        breath_out,
        breath_in,
        props=(MAT,),
        cues=(
            Cue("region", "belly-rise", when="end"),
            Cue("arrow", "hand_n", shift=(0.0, -4.5), vector=(0.0, -6.0)),
        ),
        tempo_seconds=4,
        hold_seconds=0.5,
        pause_seconds=1.5,
    ),
    "abdominal-brace": FigureSpec(
        "Lying on your back with knees bent, tighten your waist and hold, breathing normally.",
        P.supine_knees_bent,
        P.supine_knees_bent,
        props=(MAT,),
        cues=(Cue("region", "belly", when="end"),),
        tempo_seconds=1,
        hold_seconds=10,
        pause_seconds=1.5,
    ),
    "multifidus-swell": FigureSpec(
        "Lying face down with your fingertips beside your lower spine, gently swell the muscles "
        "under your fingers and hold, keeping your pelvis still.",
        P.prone,
        P.prone,
        props=(MAT,),
        cues=(Cue("region", "back", when="end"),),
        tempo_seconds=1,
        hold_seconds=10,
        pause_seconds=1.5,
    ),
    "pelvic-tilt": FigureSpec(
        "Lying on your back with knees bent, gently rock your pelvis so your lower back eases "
        "toward the floor, hold, then let it rock back.",
        pelvis_arched,
        P.supine_knees_bent,
        props=(MAT,),
        cues=(Cue("arrow", "waist", shift=(0.0, -9.0), vector=(0.0, 5.0)),),
        tempo_seconds=1.5,
        hold_seconds=5,
    ),
    "cat-camel": FigureSpec(
        "On your hands and knees, slowly round your back up toward the ceiling with your head "
        "down, then let your back dip gently and lift your head.",
        P.quadruped_round,
        P.quadruped_dip,
        anchor="hand_n",
        props=(MAT,),
        cues=(Cue("arrow", "waist", shift=(0.0, -9.0)),),
        tempo_seconds=3,
        hold_seconds=0.5,
    ),
    "heel-slide-with-brace": FigureSpec(
        "Lying on your back with knees bent and your waist gently braced, slowly slide one heel "
        "along the floor until that leg is nearly straight, then slide it back.",
        P.supine_knees_bent,
        heel_out,
        mid=heel_half,
        props=(MAT,),
        cues=(
            Cue("region", "belly"),
            Cue("arrow", "ankle_n", shift=(3.0, -7.0)),
        ),
        tempo_seconds=3,
    ),
    "bent-knee-fall-out": FigureSpec(
        "Lying on your back with knees bent, seen from above, let one knee slowly open out to the "
        "side while the other hip stays still, then bring it back.",
        P.supine_from_above,
        P.knee_fallen_out_from_above,
        props=(MAT,),
        cues=(Cue("arrow", "knee_n", shift=(0.0, -4.0), bend=0.3),),
        tempo_seconds=3,
    ),
    "mcgill-curl-up": FigureSpec(
        "Lying on your back with one knee bent and your hands under your lower back, lift your "
        "head and shoulders a little as one piece and hold.",
        curl_up_start,
        curl_up_top,
        props=(MAT,),
        cues=(Cue("arrow", "head", shift=(0.0, -7.0), bend=-0.3),),
        tempo_seconds=1.5,
        hold_seconds=10,
    ),
    "side-bridge-from-knees": FigureSpec(
        "Lying on your side on your elbow with your knees bent, lift your hips until knee, hip "
        "and shoulder are in a line, and hold.",
        P.side_lying_knees_bent,
        P.side_bridge_knees,
        anchor="knee_f",
        props=(MAT,),
        cues=(Cue("arrow", "pelvis", shift=(0.0, -9.0)),),
        tempo_seconds=1.5,
        hold_seconds=10,
    ),
    "bird-dog": FigureSpec(
        "On your hands and knees, reach one arm forward and the opposite leg back, level with "
        "your back, and hold.",
        P.quadruped,
        P.bird_dog,
        anchor="hand_f",
        props=(MAT,),
        cues=(
            Cue("arrow", "hand_n", shift=(2.0, -5.0), bend=0.25),
            Cue("arrow", "ankle_f", shift=(-2.0, -5.0), bend=-0.25),
        ),
        tempo_seconds=2,
        hold_seconds=10,
    ),
    "glute-bridge": FigureSpec(
        "Lying on your back with knees bent, push through your heels to lift your hips until "
        "knees, hips and shoulders make a straight line, hold, then lower.",
        P.supine_knees_bent,
        P.bridge,
        anchor="ankle_n",
        props=(MAT,),
        cues=(Cue("arrow", "pelvis", shift=(-2.0, -8.0)),),
        tempo_seconds=2,
        hold_seconds=3,
    ),
    "dead-bug": FigureSpec(
        "Lying on your back with arms up and hips and knees bent, slowly lower one arm behind "
        "your head and the opposite leg toward the floor, then bring them back.",
        P.supine_table_top,
        dead_bug_reach,
        props=(MAT,),
        cues=(
            Cue("arrow", "hand_n", shift=(0.0, -3.0), bend=0.3),
            Cue("arrow", "ankle_f", shift=(3.0, -3.0), bend=-0.3),
        ),
        tempo_seconds=3,
    ),
    "front-plank": FigureSpec(
        "Propped on your forearms with your elbows under your shoulders, lift your body into a "
        "straight line from head to heels and hold.",
        P.prone_on_forearms,
        P.plank,
        anchor="elbow_n",
        props=(MAT,),
        cues=(Cue("arrow", "pelvis", shift=(0.0, -8.0)),),
        tempo_seconds=1.5,
        hold_seconds=10,
    ),
    "side-plank-from-feet": FigureSpec(
        "Lying on your side on your elbow with your legs straight, lift your hips until your "
        "body makes a straight line from head to feet, and hold.",
        P.side_lying_legs_straight,
        P.side_plank,
        anchor="elbow_f",
        props=(MAT,),
        cues=(Cue("arrow", "pelvis", shift=(0.0, -9.0)),),
        tempo_seconds=1.5,
        hold_seconds=10,
    ),
    "single-leg-bridge": FigureSpec(
        "Lying on your back with one knee bent and the other leg straight, push through the "
        "bent leg's heel to lift your hips, keeping your pelvis level.",
        P.supine_one_leg_straight,
        P.single_leg_bridge,
        anchor="ankle_f",
        props=(MAT,),
        cues=(Cue("arrow", "pelvis", shift=(-3.0, -9.0)),),
        tempo_seconds=2,
    ),
    "pallof-press": FigureSpec(
        "Standing side-on to a band fixed at chest height, seen from above, press your hands "
        "straight out from your chest and hold without letting the band turn you.",
        P.hands_at_chest_from_above,
        P.arms_forward_from_above,
        props=(Prop("band"),),
        cues=(Cue("arrow", "hand_f", shift=(9.0, 0.0)),),
        tempo_seconds=1.5,
        hold_seconds=2,
    ),
    "hip-hinge-with-stick": FigureSpec(
        "Standing with a stick along your back touching your head, upper back and tailbone, push "
        "your hips back and bend forward from the hips, then stand tall.",
        stick_upright,
        stick_hinged,
        anchor="ankle_n",
        props=(Prop("stick"),),
        cues=(Cue("arrow", "pelvis", shift=(-9.0, 0.0)),),
        tempo_seconds=2.5,
    ),
    "sit-to-stand": FigureSpec(
        "Sitting near the front of a chair, lean forward from your hips and push through your "
        "feet to stand up tall, then sit back down slowly.",
        P.sitting,
        P.standing_arms_crossed,
        mid=P.sitting_leaning_forward,
        anchor="ankle_n",
        props=(Prop("chair"),),
        cues=(Cue("arrow", "pelvis", shift=(-10.0, 0.0), bend=-0.3),),
        tempo_seconds=2,
    ),
    "suitcase-carry": FigureSpec(
        "Standing tall with a weight in one hand, walk at a steady pace without leaning toward "
        "or away from the weight.",
        suitcase_n,
        suitcase_f,
        props=(Prop("kettlebell", "hand_n"),),
        tempo_seconds=0.6,
        hold_seconds=0,
        pause_seconds=0,
    ),
    "graded-walking": FigureSpec(
        "Walk at a steady, comfortable pace at which you can still talk.",
        P.stride_near_forward,
        P.stride_far_forward,
        cues=(Cue("arrow", "neck", shift=(10.0, 0.0), vector=(10.0, 0.0)),),
        tempo_seconds=0.6,
        hold_seconds=0,
        pause_seconds=0,
    ),
    "kettlebell-deadlift": FigureSpec(
        "With a kettlebell between your feet, bend from your hips with a long back to grip it, "
        "then push through your feet to stand tall with the weight.",
        bell_down,
        bell_up,
        anchor="ankle_n",
        props=(Prop("kettlebell", "hand_n"),),
        cues=(Cue("arrow", "pelvis", shift=(-9.0, 0.0), bend=-0.3),),
        tempo_seconds=2,
    ),
    "split-squat": FigureSpec(
        "With one foot a long step in front of the other, bend both knees to lower your body "
        "straight down, then push through your front foot to come back up.",
        P.split_stance,
        P.split_squat_low,
        anchor="ankle_n",
        cues=(Cue("arrow", "pelvis", shift=(-9.0, -2.0)),),
        tempo_seconds=2,
    ),
    "step-up": FigureSpec(
        "With your whole foot on a low step, lean forward a little and push through that foot to "
        "step up tall, then step down slowly.",
        P.step_up_start,
        P.standing_on_step,
        anchor="ankle_n",
        props=(Prop("step", "ankle_n"),),
        cues=(Cue("arrow", "pelvis", shift=(-9.0, 0.0)),),
        tempo_seconds=2,
    ),
    "lifting-practice": FigureSpec(
        "Bending from your hips and knees with a long back, lift a light box from the floor to "
        "your waist, keeping it close to your body.",
        box_down,
        box_up,
        anchor="ankle_n",
        props=(Prop("box", "hand_n"),),
        cues=(Cue("arrow", "hand_n", shift=(9.0, 0.0), bend=-0.2),),
        tempo_seconds=2.5,
    ),
    "reverse-lunge": FigureSpec(
        "From standing tall, take a long step back and bend both knees to lower your body, then "
        "push through your front foot to stand up again.",
        feet_together,
        lunge_low,
        anchor="ankle_n",
        cues=(Cue("arrow", "ankle_f", shift=(0.0, -6.0), bend=0.2),),
        tempo_seconds=2,
    ),
    "farmers-carry": FigureSpec(
        "Standing tall with a weight in each hand and your shoulders level, walk at a steady pace.",
        farmer_n,
        farmer_f,
        props=(Prop("kettlebell", "hand_n"), Prop("kettlebell", "hand_f")),
        tempo_seconds=0.6,
        hold_seconds=0,
        pause_seconds=0,
    ),
}
