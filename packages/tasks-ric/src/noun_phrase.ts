// Words that open a noun phrase in captions ("a man", "the small red circle", "two dogs").
const DETERMINERS = new Set(
  "a an the this that these those some another each every his her its their my your our one two three four five six seven eight nine ten several many".split(
    " ",
  ),
);
// Words that end the clause before a phrase when no determiner opens it ("near trees").
const BOUNDARIES = new Set(
  "is are was were be and or but with of on in at by near to from for under over above below behind beside between left right next into onto".split(
    " ",
  ),
);

/**
 * Start offset of the noun phrase that ends `text`: from the last determiner of the last
 * clause, else after the last preposition, conjunction or copula, else the clause start.
 * A heuristic (no parser), good for the short captions the models write.
 */
export function nounPhraseStart(text: string): number {
  const clauseStart =
    Math.max(...[".", ",", ";", ":", "!", "?", ")", "("].map((p) => text.lastIndexOf(p))) + 1;
  const words = [...text.slice(clauseStart).matchAll(/\S+/g)].map((m) => ({
    word: m[0].toLowerCase(),
    at: clauseStart + m.index,
  }));
  for (let i = words.length - 1; i >= 0; i--) {
    if (DETERMINERS.has(words[i]!.word)) return words[i]!.at;
  }
  for (let i = words.length - 2; i >= 0; i--) {
    if (BOUNDARIES.has(words[i]!.word)) return words[i + 1]!.at;
  }
  return words[0]?.at ?? text.length;
}
