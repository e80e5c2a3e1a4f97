/// "Did you mean" for every error that names something unknown: a config key, a syscall, a capability, an
/// option. One rule, so the same typo gets the same hint wherever it is made.
public enum Suggestion {
    /// The candidate closest to `word` by edit distance, if it is at most `limit` (a plausible typo); ties go to
    /// the earliest candidate, so pass them sorted when their order would otherwise vary (a Set).
    public static func closest(to word: String, in candidates: some Sequence<String>, limit: Int = 2) -> String? {
        let target = Array(word.unicodeScalars)
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let d = editDistance(target, Array(candidate.unicodeScalars), limit: limit)
            if d <= limit && d < (best?.distance ?? Int.max) { best = (candidate, d) }
        }
        return best?.candidate
    }

    /// The first candidate `word` abbreviates (`--pol` for `--policy`), when `word` is longer than `minimum`.
    public static func completion(of word: String, in candidates: some Sequence<String>, minimum: Int = 3) -> String? {
        guard word.count > minimum else { return nil }
        return candidates.first { $0.hasPrefix(word) }
    }

    /// Levenshtein distance over Unicode scalars, giving up early (returning limit + 1) once it must exceed
    /// `limit`, so a long unknown word against a long list costs little.
    public static func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar], limit: Int) -> Int {
        if abs(a.count - b.count) > limit { return limit + 1 }
        if a.isEmpty { return b.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            var rowMin = current[0]
            for j in stride(from: 1, through: b.count, by: 1) {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                rowMin = min(rowMin, current[j])
            }
            if rowMin > limit { return limit + 1 }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
