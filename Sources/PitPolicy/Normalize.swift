/// Turns argument conditions into what libseccomp can take: a disjunction of rules, each a
/// conjunction with at most one comparison per argument (libseccomp rejects a rule that
/// compares one argument twice).
///
/// Transformations, all exact (no over- or under-approximation; NormalizeTests checks the
/// compiled BPF against the conditions' meaning on random inputs):
///  * `!` is pushed to the comparisons (`!(a < 3)` is `a >= 3`);
///  * `a & m` (true when nonzero) is `!((a & m) == 0)`, and a negated masked equality becomes
///    one rule per bit of m: `(a & b) == (~v & b)` (the values differ in at least one bit);
///  * several comparisons of one argument in a conjunction are merged: equalities pin the
///    value, masked equalities combine their masks, ranges and `!=` become a union of
///    intervals, each one comparison or a few aligned blocks (masked equalities), and
///    contradictions drop the conjunction;
///  * `lower` then rewrites `!=`, `<`, `<=` (and `>=` except on a rule's last argument) into
///    equalities and blocks, because libseccomp 2.5.4 mishandles those operators when one
///    syscall has rules with different actions (see `lower`);
///  * the result is bounded by `maxTerms` rules per syscall and action; past that it is an
///    error ("needs more than 256 seccomp rules").
struct Literal: Hashable, Sendable {
    enum Op: Hashable, Sendable { case eq, ne, lt, le, gt, ge, maskedEq }
    var arg: Int
    var op: Op
    /// The compared value, or the mask for maskedEq.
    var a: UInt64
    /// The value for maskedEq.
    var b: UInt64 = 0
    var location: SourceLocation

    static func == (l: Literal, r: Literal) -> Bool { l.arg == r.arg && l.op == r.op && l.a == r.a && l.b == r.b }
    func hash(into h: inout Hasher) { h.combine(arg); h.combine(op); h.combine(a); h.combine(b) }

    func holds(for x: UInt64) -> Bool {
        switch op {
        case .eq: return x == a
        case .ne: return x != a
        case .lt: return x < a
        case .le: return x <= a
        case .gt: return x > a
        case .ge: return x >= a
        case .maskedEq: return x & a == b
        }
    }
}

/// A condition in disjunctive normal form: [] is false, [[]] is true.
typealias DNF = [[Literal]]

struct Normalizer {
    static let maxTerms = 256
    /// Arguments the kernel reads as 32-bit values on a 64-bit architecture (SyscallArgs): the
    /// kernel ignores their upper 32 bits, so a filter must too, or `write(0x100000001, ...)` would
    /// slip past `fd == 1` and `ioctl(fd, TIOCSTI | 1 << 32)` past `req != TIOCSTI`.
    ///
    /// A comparison of such an argument with constants that fit in 32 bits is about the argument's
    /// low half: its literals use the index `arg + lowView`, a variable of its own whose values are
    /// 0...0xffffffff (the reasoning below holds on any subset of values), and `lower` turns them
    /// into masked equalities over the low word. A constant wider than 32 bits compares the whole
    /// register, as kafel does.
    var low32Args: Set<Int> = []
    static let lowView = 8
    static let low32: UInt64 = 0xFFFF_FFFF
    /// On 32-bit architectures every argument is 32 bits wide and libseccomp compares only the
    /// low word: constants beyond 32 bits are decided here (`a == 1 << 32` is never true)
    /// instead of being silently truncated into a different rule.
    var args32 = false
    var syscallName: String
    var location: SourceLocation

    func tooComplex() -> PolicyError {
        PolicyError("condition for '\(syscallName)' needs more than \(Normalizer.maxTerms) seccomp rules", at: location)
    }

    func dnf(_ c: Condition, negated: Bool = false) throws(PolicyError) -> DNF {
        switch c {
        case .constant(let b):
            return b != negated ? [[]] : []
        case .not(let x):
            return try dnf(x, negated: !negated)
        case .and(let x, let y):
            return negated ? try or(dnf(x, negated: true), dnf(y, negated: true))
                           : try and(dnf(x), dnf(y))
        case .or(let x, let y):
            return negated ? try and(dnf(x, negated: true), dnf(y, negated: true))
                           : try or(dnf(x), dnf(y))
        case .anyBit(var arg, var mask, let loc):
            if args32 { mask &= 0xFFFF_FFFF }
            else if low32Args.contains(arg) && mask <= Normalizer.low32 { arg += Normalizer.lowView }
            let lit = Literal(arg: arg, op: .maskedEq, a: mask, b: 0, location: loc)
            // nonzero == not (masked == 0)
            return negated ? try simplify([[lit]]) : try negate(lit)
        case .compare(let arg, let mask, let op, let value, let loc):
            let positive = try literal(arg: arg, mask: mask, op: op.negatedIf(negated), value: value, loc)
            return positive
        }
    }

    /// One comparison as DNF (a masked `!=` already needs several rules).
    func literal(arg: Int, mask: UInt64?, op: CompareOp, value: UInt64, _ loc: SourceLocation) throws(PolicyError) -> DNF {
        // `a & -1` is `a` (kafel folds it so too): a mask of every bit does not make a narrow argument's comparison wide.
        var mask = mask == .max ? nil : mask
        var arg = arg
        if !args32 && low32Args.contains(arg) && value <= Normalizer.low32 && (mask ?? 0) <= Normalizer.low32 {
            arg += Normalizer.lowView
        }
        if args32 {
            let max32: UInt64 = 0xFFFF_FFFF
            if let m = mask {
                mask = m & max32
            } else if value > max32 || (value == max32 && (op == .le || op == .gt)) {
                // Every 32-bit value is below the constant (or at most equal to it).
                switch op {
                case .eq, .gt, .ge: return []
                case .ne, .lt, .le: return [[]]
                }
            }
        }
        if let m = mask {
            let lit = Literal(arg: arg, op: .maskedEq, a: m, b: value, location: loc)
            return op == .eq ? try simplify([[lit]]) : try negate(lit)
        }
        let o: Literal.Op
        switch op {
        case .eq: o = .eq
        case .ne: o = .ne
        case .lt: o = .lt
        case .le: o = .le
        case .gt: o = .gt
        case .ge: o = .ge
        }
        return try simplify(Normalizer.canonical(Literal(arg: arg, op: o, a: value, location: loc)))
    }

    /// `<` and `>` become `<=` and `>=`. libseccomp 2.5 builds `a < v` as an inverted `a >= v`
    /// node and shares that node with a rule on `a >= v`: when the two rules have different
    /// actions (as making rules disjoint produces), one action is silently lost. With only
    /// `<=` (an inverted `>`) and `>=`, complementary comparisons never share a node.
    static func canonical(_ l: Literal) -> DNF {
        var c = l
        switch l.op {
        case .lt:
            if l.a == 0 { return [] }
            c.op = .le; c.a = l.a - 1
        case .gt:
            if l.a == .max { return [] }
            c.op = .ge; c.a = l.a + 1
        default: break
        }
        return [[c]]
    }

    /// The negation of one literal, as DNF.
    func negate(_ l: Literal) throws(PolicyError) -> DNF {
        var n = l
        switch l.op {
        case .eq: n.op = .ne
        case .ne: n.op = .eq
        case .lt: n.op = .ge
        case .le: n.op = .gt
        case .gt: n.op = .le
        case .ge: n.op = .lt
        case .maskedEq:
            // (x & m) == v is false for every x when v has bits outside m: its negation is true.
            if l.b & ~l.a != 0 { return [[]] }
            var terms: DNF = []
            var m = l.a
            while m != 0 {
                let bit = m & (~m &+ 1)
                m &= m - 1
                terms.append([Literal(arg: l.arg, op: .maskedEq, a: bit, b: ~l.b & bit, location: l.location)])
                if terms.count > Normalizer.maxTerms { throw tooComplex() }
            }
            return try simplify(terms)
        }
        return Normalizer.canonical(n)
    }

    /// The negation of a DNF (De Morgan, then distribute), bounded.
    func negate(_ d: DNF) throws(PolicyError) -> DNF {
        var result: DNF = [[]]
        for conj in d {
            var clause: DNF = []
            for lit in conj { clause = try or(clause, negate(lit)) }
            result = try and(result, clause)
            if result.isEmpty { return [] }
        }
        return result
    }

    func or(_ x: DNF, _ y: DNF) throws(PolicyError) -> DNF {
        try simplify(x + y)
    }

    func and(_ x: DNF, _ y: DNF) throws(PolicyError) -> DNF {
        if x.count * y.count > Normalizer.maxTerms * 4 { throw tooComplex() }
        var out: DNF = []
        for a in x { for b in y { out.append(a + b) } }
        return try simplify(out)
    }

    /// Merges each conjunction to one comparison per argument, drops contradictions and
    /// duplicates; a true conjunction makes the whole DNF true.
    func simplify(_ d: DNF) throws(PolicyError) -> DNF {
        var seen = Set<[Literal]>()
        var out: DNF = []
        for conj in d {
            for merged in try mergeConjunction(conj) {
                if merged.isEmpty { return [[]] }
                if seen.insert(merged).inserted { out.append(merged) }
            }
            if out.count > Normalizer.maxTerms * 4 { throw tooComplex() }
        }
        if out.count > Normalizer.maxTerms { throw tooComplex() }
        // Absorption: a conjunction that contains all literals of another adds nothing.
        // Quadratic, so only on small sets; it is an optimisation, not needed for correctness.
        if out.count > 64 { return out }
        let sets = out.map(Set.init)
        var kept: DNF = []
        for (i, c) in out.enumerated() {
            let absorbed = sets.indices.contains { j in j != i && sets[j].isSubset(of: sets[i]) && (sets[j] != sets[i] || j < i) }
            if !absorbed { kept.append(c) }
        }
        if kept.count > Normalizer.maxTerms { throw tooComplex() }
        return kept
    }

    /// The conjunction with one comparison per argument, as a DNF: [] when it can never hold,
    /// several conjunctions when an argument's constraints split into several ranges.
    func mergeConjunction(_ conj: [Literal]) throws(PolicyError) -> DNF {
        var byArg: [Int: [Literal]] = [:]
        for l in conj { byArg[l.arg, default: []].append(l) }
        var product: DNF = [[]]
        for arg in byArg.keys.sorted() {
            let alternatives = try mergeOneArg(byArg[arg]!)
            if alternatives.isEmpty { return [] }
            var next: DNF = []
            for p in product { for a in alternatives { next.append(p + a) } }
            product = next
        }
        return product
    }

    /// Merges the comparisons of one argument into alternatives of one comparison each.
    func mergeOneArg(_ lits: [Literal]) throws(PolicyError) -> DNF {
        let arg = lits[0].arg
        let loc = lits.last!.location
        if lits.count == 1 {
            let l = lits[0]
            switch l.op {
            case .maskedEq where l.b & ~l.a != 0: return []
            case .maskedEq where l.a == 0: return [[]]
            case .lt where l.a == 0, .gt where l.a == .max: return []
            case .ge where l.a == 0, .le where l.a == .max: return [[]]
            default: return [[l]]
            }
        }
        // An equality pins the value: everything else is either implied or contradictory.
        if let eq = lits.first(where: { $0.op == .eq }) {
            return lits.allSatisfy { $0.holds(for: eq.a) } ? [[eq]] : []
        }
        var mask: UInt64 = 0, value: UInt64 = 0
        // On a 32-bit architecture the values end at 0xffffffff: a block above it would reach libseccomp, which
        // compares the low word only, as a mask without its high bits, matching values the condition excludes.
        let top: UInt64 = args32 ? Normalizer.low32 : .max
        var lo: UInt64 = 0, hi: UInt64 = top
        var ne: Set<UInt64> = []
        var hasMask = false
        for l in lits {
            switch l.op {
            case .maskedEq:
                if l.b & ~l.a != 0 { return [] }
                if (mask & l.a) & (value ^ l.b) != 0 { return [] }
                mask |= l.a; value |= l.b; hasMask = true
            case .lt: if l.a == 0 { return [] }; hi = min(hi, l.a - 1)
            case .le: hi = min(hi, l.a)
            case .gt: if l.a == .max { return [] }; lo = max(lo, l.a + 1)
            case .ge: lo = max(lo, l.a)
            case .ne: ne.insert(l.a)
            case .eq: break
            }
        }
        if lo > hi { return [] }
        ne = ne.filter { $0 >= lo && $0 <= hi }
        if hasMask && mask == .max {
            // A full mask is an equality.
            return value < lo || value > hi || ne.contains(value) ? [] : [[Literal(arg: arg, op: .eq, a: value, location: loc)]]
        }
        if hasMask && lo == 0 && hi == top && ne.isEmpty {
            return [[Literal(arg: arg, op: .maskedEq, a: mask, b: value, location: loc)]]
        }
        // Ranges and exclusions: the allowed values are [lo, hi] minus the excluded points, a
        // union of intervals; each becomes one comparison or a few aligned blocks.
        var intervals: [(UInt64, UInt64)] = []
        var start = lo
        var open = true
        for v in ne.sorted() {
            if v > start { intervals.append((start, v - 1)) }
            if v == hi { open = false; break }
            start = v + 1
        }
        if open { intervals.append((start, hi)) }
        var out: DNF = []
        if hasMask {
            // Masked equality and ranges: each range becomes aligned blocks (masked
            // equalities), and two masked equalities combine into one when consistent.
            for (a, b) in intervals {
                for block in Normalizer.blocks(a, b, lits[0]) {
                    guard let l = block.first else { return [[Literal(arg: arg, op: .maskedEq, a: mask, b: value, location: loc)]] }
                    let (bm, bv) = l.op == .eq ? (UInt64.max, l.a) : (l.a, l.b)
                    if (bm & mask) & (bv ^ value) != 0 { continue }
                    let m = bm | mask, v = bv | value
                    out.append([m == .max ? Literal(arg: arg, op: .eq, a: v, location: loc)
                                          : Literal(arg: arg, op: .maskedEq, a: m, b: v, location: loc)])
                    if out.count > Normalizer.maxTerms { throw tooComplex() }
                }
            }
            return out
        }
        for (a, b) in intervals {
            if a == b { out.append([Literal(arg: arg, op: .eq, a: a, location: loc)]) }
            else if a == 0 && b == top { return [[]] }
            else if b == top { out.append([Literal(arg: arg, op: .ge, a: a, location: loc)]) }
            else if a == 0 { out.append([Literal(arg: arg, op: .le, a: b, location: loc)]) }
            else { out += Normalizer.blocks(a, b, lits[0]).map { $0.map { var l = $0; l.location = loc; return l } } }
            if out.count > Normalizer.maxTerms { throw tooComplex() }
        }
        return out
    }
}

extension Normalizer {
    /// Rewrites a DNF so that libseccomp only sees `==` and masked equality, plus `>=` on the
    /// last (highest-numbered) argument of a rule, where its node has no children.
    ///
    /// libseccomp 2.5.4's tree merge is unreliable for the other operators: `!=`, `<`, `<=` are
    /// inverted `==`, `>=`, `>` nodes, and with two actions on one syscall it silently drops one
    /// (`a < v` vs `a >= v`); two rules sharing an `a0 >= 8` node with different children make
    /// seccomp_rule_add loop forever. Equalities merge correctly. So:
    ///  * a range becomes aligned power-of-two blocks, each a masked equality
    ///    (`a <= 5` is `(a & ~3) == 0 || (a & ~1) == 4`; `a <= 0xffffffff` is one block);
    ///  * `a != v` becomes `a >= v + 1 || a <= v - 1`, each part as above.
    /// NormalizeTests checks the result against the conditions' meaning on random inputs.
    ///
    /// On a 32-bit architecture libseccomp compares only an argument's low word, so the ranges end at 0xffffffff: a
    /// block above it (`(a & ~0xffffffff) == 1 << 32`) would be truncated to a mask of 0, true for every value.
    func lower(_ d: DNF) throws(PolicyError) -> DNF {
        let top: UInt64 = args32 ? Normalizer.low32 : .max
        var out: DNF = []
        for conj in d {
            let lowViewed = Set(conj.filter { $0.arg >= Normalizer.lowView }.map { $0.arg - Normalizer.lowView })
            let lastArg = conj.map { $0.arg % Normalizer.lowView }.max() ?? 0
            var product: DNF = [[]]
            for lit in conj {
                // A `>=` stays a comparison only on the rule's last argument, and only when nothing
                // compares that argument's low half too (both become masked equalities, merged below).
                let leaf = lit.arg == lastArg && !lowViewed.contains(lit.arg)
                func atLeast(_ v: UInt64) -> DNF {
                    if v > top { return [] }
                    return leaf ? [[Literal(arg: lit.arg, op: .ge, a: v, location: lit.location)]]
                                : Normalizer.blocks(v, top, lit)
                }
                func atMost(_ v: UInt64) -> DNF { Normalizer.blocks(0, min(v, top), lit) }
                var alternatives: DNF
                if lit.arg >= Normalizer.lowView {
                    alternatives = Normalizer.lowerLow32(lit)
                } else {
                    switch lit.op {
                    case .eq, .maskedEq: alternatives = [[lit]]
                    case .ge: alternatives = lit.a == 0 ? [[]] : atLeast(lit.a)
                    case .gt: alternatives = lit.a == .max ? [] : atLeast(lit.a + 1)
                    case .lt: alternatives = lit.a == 0 ? [] : atMost(lit.a - 1)
                    case .le: alternatives = atMost(lit.a)
                    case .ne:
                        alternatives = lit.a == .max ? [] : atLeast(lit.a + 1)
                        if lit.a > 0 { alternatives += atMost(lit.a - 1) }
                    }
                }
                var next: DNF = []
                for p in product { for a in alternatives { next.append(p + a) } }
                product = next
                if product.count > Normalizer.maxTerms { throw tooComplex() }
            }
            if !lowViewed.isEmpty { product = product.compactMap(Normalizer.mergeMasked) }
            out += product
            if out.count > Normalizer.maxTerms { throw tooComplex() }
        }
        return out
    }

    /// A literal about an argument's low 32 bits (index arg + lowView, values 0...0xffffffff) as
    /// masked equalities on the whole register: the result holds for a register exactly when the
    /// literal holds for its low word. A range is clamped to the 32-bit values, cut into aligned
    /// blocks, and each block's mask loses its upper half (the high word is not looked at).
    static func lowerLow32(_ lit: Literal) -> DNF {
        let arg = lit.arg - lowView
        func onLowWord(_ m: UInt64, _ v: UInt64) -> DNF {
            if v > low32 { return [] }                    // a block of values above 32 bits: none is a low word
            let mask = m & low32
            if mask == 0 { return [[]] }
            return [[Literal(arg: arg, op: .maskedEq, a: mask, b: v & mask, location: lit.location)]]
        }
        func range(_ lo: UInt64, _ hi: UInt64) -> DNF {
            let hi = min(hi, low32)
            if lo > hi { return [] }
            var out: DNF = []
            for block in blocks(lo, hi, lit) {
                guard let l = block.first else { return [[]] }
                let d = l.op == .eq ? onLowWord(.max, l.a) : onLowWord(l.a, l.b)
                if d == [[]] { return [[]] }
                out += d
            }
            return out
        }
        switch lit.op {
        case .eq: return onLowWord(.max, lit.a)
        case .maskedEq: return lit.b & ~lit.a != 0 ? [] : onLowWord(lit.a, lit.b)
        case .ge: return range(lit.a, low32)
        case .gt: return lit.a >= low32 ? [] : range(lit.a + 1, low32)
        case .le: return range(0, lit.a)
        case .lt: return lit.a == 0 ? [] : range(0, lit.a - 1)
        case .ne:
            if lit.a > low32 { return [[]] }
            return (lit.a == 0 ? [] : range(0, lit.a - 1)) + (lit.a == low32 ? [] : range(lit.a + 1, low32))
        }
    }

    /// A lowered conjunction with at most one literal per argument: the masked equalities on one
    /// argument (from its low half and from the whole register) combined, nil when they contradict.
    static func mergeMasked(_ conj: [Literal]) -> [Literal]? {
        var byArg: [Int: (m: UInt64, v: UInt64, loc: SourceLocation)] = [:]
        var order: [Int] = []
        var out: [Literal] = []
        for l in conj {
            let (m, v): (UInt64, UInt64)
            switch l.op {
            case .eq: (m, v) = (.max, l.a)
            case .maskedEq: (m, v) = (l.a, l.b)
            default: out.append(l); continue      // a leaf `>=`: its argument has no low-half literal
            }
            if let cur = byArg[l.arg] {
                if (cur.m & m) & (cur.v ^ v) != 0 { return nil }
                byArg[l.arg] = (cur.m | m, cur.v | v, cur.loc)
            } else {
                byArg[l.arg] = (m, v, l.location)
                order.append(l.arg)
            }
        }
        for arg in order {
            let (m, v, loc) = byArg[arg]!
            out.append(m == .max ? Literal(arg: arg, op: .eq, a: v, location: loc)
                                 : Literal(arg: arg, op: .maskedEq, a: m, b: v, location: loc))
        }
        return out
    }

    /// [lo, hi] as aligned power-of-two blocks (like CIDR prefixes), each a masked equality
    /// (an equality for one-value blocks); [[]] when the range is everything.
    static func blocks(_ lo: UInt64, _ hi: UInt64, _ lit: Literal) -> DNF {
        if lo == 0 && hi == .max { return [[]] }
        var out: DNF = []
        var cur = lo
        while true {
            var k = cur == 0 ? 63 : min(63, cur.trailingZeroBitCount)
            while k > 0 && (cur | ((1 << UInt64(k)) - 1)) > hi { k -= 1 }
            let size: UInt64 = 1 << UInt64(k)
            let end = cur | (size - 1)
            if k == 0 {
                out.append([Literal(arg: lit.arg, op: .eq, a: cur, location: lit.location)])
            } else {
                out.append([Literal(arg: lit.arg, op: .maskedEq, a: ~(size - 1), b: cur, location: lit.location)])
            }
            if end >= hi { break }
            cur = end + 1
        }
        return out
    }
}

extension CompareOp {
    func negatedIf(_ flag: Bool) -> CompareOp { flag ? negated : self }
}
