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

# Nominal object size (side of the square the shape is drawn in, in image pixels). Each
# scene draws a base scale (density rising linearly towards its ceiling), then every object is either small (0.8-1.0 x the
# base) or large (1.7-2.2 x the base), so "small" and "large" mean relative size among the
# objects of one image, with at least 1.7x between the classes. Across scenes absolute sizes
# run from about 12 px to about half the image side.
SCALE_MIN = 14.0  # base scale floor: the smallest small object is ~11-14 px
SCALE_SPAN = 4.4  # base scale ceiling = min(width, height) / SCALE_SPAN (large <= side / 2)
SIZES = {"small": (0.8, 1.0), "large": (1.7, 2.2)}  # multiples of the scene's base scale
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
