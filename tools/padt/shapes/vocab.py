"""The Shapes vocabulary: categories, colours, sizes and the words for them."""

# Category ids are 1-based and fixed: the COCO files of every split agree on them.
SHAPES = ("circle", "square", "triangle", "star", "hexagon", "diamond", "cross")
CATEGORY_IDS = {name: i + 1 for i, name in enumerate(SHAPES)}
PLURALS = {name: name + "es" if name.endswith("ss") else name + "s" for name in SHAPES}

# Distinct hues (red 0, orange 30, yellow 52, green 130, blue 225, purple 280 degrees);
# each object jitters its colour a little around these.
COLOURS = {
    "red": (215, 38, 38),
    "orange": (242, 133, 24),
    "yellow": (240, 212, 36),
    "green": (40, 165, 64),
    "blue": (38, 84, 218),
    "purple": (138, 58, 190),
}
COLOUR_NAMES = tuple(COLOURS)

# Nominal object size (side of the square the shape is drawn in, in image pixels).
# Small at most 58 px and large at least 90 px: 1.55x apart, so the classes never
# overlap, and a small object still covers several 28-px cells of the model's grid.
SIZES = {"small": (44, 58), "large": (90, 120)}
SIZE_NAMES = tuple(SIZES)

# Image sides, each drawn independently.
MIN_SIDE, MAX_SIDE = 112, 448
MAX_OBJECTS = 8

# An object may be hidden by later (higher) objects, but at most this fraction of it.
MAX_HIDDEN = 0.35

NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight")

BACKGROUND_WORDS = {
    "gradient": "shaded",
    "noise": "noisy",
    "stripes": "striped",
    "checker": "checkered",
}


def article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"
