"""The library's topic vocabulary: what each topic is called, the words patients and articles use for it, and how
the intake's structured answers (where it hurts, stress, sleep) and the booked service point to topics.

Data only, no ORM: the ranker (education/ranking.py) reads it to expand a patient's words and to
boost topics, and the importer reads it to suggest an article's topics. A clinic tunes matching here, then checks
the effect with `manage.py match_articles` and the evaluation set (tests/education/eval_intakes.yaml).

Phrases are matched after the same normalisation as the text (lower case, no apostrophes, light stemming), so
"shoulders", "Shoulder" and "shoulder's" are one phrase; write them in plain lower case.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Concept:
    slug: str  # the Topic's slug
    name: str  # the Topic's name on the library pages
    label: str  # how a reason names it: "matches: lower back, stress"
    phrases: tuple[str, ...]


def phrases(listing: str) -> tuple[str, ...]:
    """ "a | b c" -> ("a", "b c"): a long list of phrases stays readable in one string."""
    return tuple(phrase.strip() for phrase in listing.split("|") if phrase.strip())


CONCEPTS: tuple[Concept, ...] = (
    Concept(
        "lower-back",
        "Lower back",
        "lower back",
        phrases(
            "lower back | low back | lumbar | back pain | backache | back ache | bad back | sore back | "
            "my back | back spasm | back went | threw out my back | threw my back out | put my back out | "
            "sciatica | sciatic | slipped disc | herniated disc | bulging disc | disc | tailbone | sacroiliac | "
            "si joint | spine | spinal | glute | buttock | down my leg | hip pain"
        ),
    ),
    Concept(
        "neck-shoulders",
        "Neck and shoulders",
        "neck and shoulders",
        phrases(
            "neck | shoulder | stiff neck | trapezius | traps | upper back | shoulder blade | frozen shoulder | "
            "whiplash | rotator cuff | crick | knots | hunched | hunching | posture | desk | laptop | screen | "
            "computer | jaw | tmj | clench | grind my teeth | grinding"
        ),
    ),
    Concept(
        "headaches",
        "Headaches and migraine",
        "headaches",
        phrases(
            "headache | migraine | head pain | head hurts | tension headache | cluster headache | aura | "
            "temples | throbbing head | pounding head | behind my eyes | light sensitivity"
        ),
    ),
    Concept(
        "stress",
        "Stress",
        "stress",
        phrases(
            "stress | stressful | overwhelmed | overwhelm | burnout | burned out | burnt out | pressure | "
            "deadline | wound up | frazzled | cortisol | overworked | hectic | demanding job | divorce | "
            "grief | caring for"
        ),
    ),
    Concept(
        "anxiety",
        "Anxiety",
        "anxiety",
        phrases(
            "anxiety | anxious | panic | panic attack | worry | worried | worrying | racing thoughts | "
            "racing mind | mind racing | on edge | jittery | restless mind"
        ),
    ),
    Concept(
        "sleep",
        "Sleep",
        "sleep",
        phrases(
            "sleep | insomnia | cant sleep | cannot sleep | awake | wake up | waking | wake at | at night | "
            "exhausted | fatigue | tired all the time | restless night | bedtime | fall asleep | stay asleep | "
            "asleep | 3am | 4am | sleepless"
        ),
    ),
    Concept(
        "digestion",
        "Digestive health",
        "digestion",
        phrases(
            "digestion | digestive | bloating | bloated | ibs | irritable bowel | stomach | tummy | gut | "
            "constipation | constipated | diarrhea | diarrhoea | reflux | heartburn | acid | indigestion | "
            "nausea | nauseous | bowel | gas | after eating | food | appetite"
        ),
    ),
    Concept(
        "fertility",
        "Fertility",
        "fertility",
        phrases(
            "fertility | ivf | iui | conceive | conceiving | trying for a baby | trying to get pregnant | ttc | "
            "embryo | transfer | egg retrieval | egg collection | ovulation | pcos | endometriosis | "
            "menstrual | period | cycle | hormone | miscarriage | pregnancy | get pregnant"
        ),
    ),
    Concept(
        "cupping",
        "Cupping",
        "cupping",
        phrases("cupping | cup | suction | cupped | fire cupping | circles on my back | round marks"),
    ),
    Concept(
        "needle-safety",
        "Needles and safety",
        "needle safety",
        phrases(
            "needle | needle phobia | afraid of needles | scared of needles | nervous about needles | sterile | "
            "single use | does it hurt | will it hurt | safe | safety | faint | fainted | squeamish | "
            "side effect | risk | blood thinner"
        ),
    ),
    Concept(
        "first-visit",
        "Your first visit",
        "first visit",
        phrases(
            "first visit | first time | first appointment | first session | new patient | "
            "never had acupuncture | never tried | never been | what to expect | new to acupuncture | "
            "try acupuncture | trying acupuncture | curious | initial consultation"
        ),
    ),
    Concept(
        "aftercare",
        "Aftercare",
        "aftercare",
        phrases(
            "after treatment | after my treatment | after my session | after a session | after the session | "
            "aftercare | afterwards | after acupuncture | last session | last treatment | last visit | "
            "between sessions | between treatments | next session | sore after | tired after | bruise | "
            "bruising | drink water"
        ),
    ),
)

# Where it hurts (patients/intake.py PAIN_AREAS) -> topics, with how strongly the answer points to each.
AREA_TOPICS: dict[str, dict[str, float]] = {
    "head": {"headaches": 1.0},
    "jaw": {"neck-shoulders": 0.6, "headaches": 0.4},
    "neck": {"neck-shoulders": 1.0},
    "shoulders": {"neck-shoulders": 1.0},
    "upper_back": {"neck-shoulders": 0.8},
    "lower_back": {"lower-back": 1.0},
    "hips": {"lower-back": 0.5},
    "abdomen": {"digestion": 0.8},
}
# The booked service's slug (the demo clinic's; a clinic adds its own) -> topics.
SERVICE_TOPICS: dict[str, dict[str, float]] = {
    "initial": {"first-visit": 0.5},
    "cupping": {"cupping": 1.0},
    "fertility": {"fertility": 1.2},
    "follow-up": {"aftercare": 0.3},
}
# Sleep quality (SLEEP_QUALITIES) -> how strongly it points to the sleep topic.
SLEEP_TOPIC_WEIGHT: dict[str, float] = {"good": 0.0, "fair": 0.3, "poor": 0.8, "very_poor": 1.0}
# Stress from 0 to 10: nothing up to STRESS_QUIET, then rising to 1.0 at 10.
STRESS_QUIET = 4
