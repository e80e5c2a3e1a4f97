/// Turns argument conditions into what libseccomp can take: a disjunction of rules, each a
/// conjunction with at most one comparison per argument, using only
/// `== != < <= > >=` and masked equality `(a & m) == v`.
///
/// Transformations, all exact (no over- or under-approximation):
///  * `!` is pushed to the comparisons (`!(a < 3)` is `a >= 3`);
///  * `a & m` (true when nonzero) becomes one rule per bit of m: `(a & b) == b`;
///  * `(a & m) != v` — and `!((a & m) == v)` — become one rule per bit of m:
///    `(a & b) == (~v & b)` (the values differ in at least one masked bit);
///  * several comparisons of one argument in a conjunction are merged when the result is one
///    comparison (`a == 1 && a < 5` is `a == 1`; masked equalities combine their masks;
///    `a >= 2 && a <= 2` is `a == 2`) and dropped when contradictory; otherwise it is an error,
///    because libseccomp rejects a rule that compares one argument twice;
///  * the result is bounded by `maxTerms` rules per syscall and action; past that it is an error.
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
    /// kioctl's request is `unsigned int`: the kernel ignores the upper 32 bits of arg1, so a
    /// filter must too, or `ioctl(fd, TIOCSTI | 1 << 32)` would slip past `req != TIOCSTI`.
    var low32Args: Set<Int> = []
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
        case .anyBit(let arg, var mask, let loc):
            if low32Args.contains(arg) { mask &= 0xFFFF_FFFF }
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
        var mask = mask
        if low32Args.contains(arg) {
            mask = (mask ?? ~0) & 0xFFFF_FFFF
            if mask == 0xFFFF_FFFF, op != .eq, op != .ne {
                throw PolicyError("'\(op.rawValue)' on \(syscallName)'s request cannot be filtered: the kernel uses only its low 32 bits and seccomp can compare those only for equality", at: loc)
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
        return try simplify([[Literal(arg: arg, op: o, a: value, location: loc)]])
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
        return [[n]]
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
            guard let merged = try mergeConjunction(conj) else { continue }
            if merged.isEmpty { return [[]] }
            if seen.insert(merged).inserted { out.append(merged) }
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

    /// nil when the conjunction can never hold.
    func mergeConjunction(_ conj: [Literal]) throws(PolicyError) -> [Literal]? {
        var byArg: [Int: [Literal]] = [:]
        for l in conj { byArg[l.arg, default: []].append(l) }
        var result: [Literal] = []
        for arg in byArg.keys.sorted() {
            let lits = byArg[arg]!
            guard let merged = try mergeOneArg(lits) else { return nil }
            if let m = merged { result.append(m) }
        }
        return result
    }

    /// Merges the comparisons of one argument: .some(nil) when they always hold, nil when never.
    func mergeOneArg(_ lits: [Literal]) throws(PolicyError) -> Literal?? {
        if lits.count == 1 {
            let l = lits[0]
            switch l.op {
            case .maskedEq where l.b & ~l.a != 0: return nil
            case .maskedEq where l.a == 0: return .some(nil)
            case .lt where l.a == 0, .gt where l.a == .max: return nil
            case .ge where l.a == 0, .le where l.a == .max: return .some(nil)
            default: return .some(l)
            }
        }
        // An equality pins the value: everything else is either implied or contradictory.
        if let eq = lits.first(where: { $0.op == .eq }) {
            return lits.allSatisfy { $0.holds(for: eq.a) } ? .some(eq) : nil
        }
        var mask: UInt64 = 0, value: UInt64 = 0
        var lo: UInt64 = 0, hi: UInt64 = .max
        var ne: Set<UInt64> = []
        var hasMask = false
        for l in lits {
            switch l.op {
            case .maskedEq:
                if l.b & ~l.a != 0 { return nil }
                if (mask & l.a) & (value ^ l.b) != 0 { return nil }
                mask |= l.a; value |= l.b; hasMask = true
            case .lt: if l.a == 0 { return nil }; hi = min(hi, l.a - 1)
            case .le: hi = min(hi, l.a)
            case .gt: if l.a == .max { return nil }; lo = max(lo, l.a + 1)
            case .ge: lo = max(lo, l.a)
            case .ne: ne.insert(l.a)
            case .eq: break
            }
        }
        if lo > hi { return nil }
        let loc = lits[0].location
        ne = ne.filter { $0 >= lo && $0 <= hi }
        if lo == hi {
            if ne.contains(lo) || (hasMask && lo & mask != value) { return nil }
            return .some(Literal(arg: lits[0].arg, op: .eq, a: lo, location: loc))
        }
        if hasMask && mask == .max {
            // Full mask: it is an equality.
            let v = value
            if v < lo || v > hi || ne.contains(v) { return nil }
            return .some(Literal(arg: lits[0].arg, op: .eq, a: v, location: loc))
        }
        var remaining: [Literal] = []
        if hasMask && mask != 0 { remaining.append(Literal(arg: lits[0].arg, op: .maskedEq, a: mask, b: value, location: loc)) }
        if lo > 0 { remaining.append(Literal(arg: lits[0].arg, op: .ge, a: lo, location: loc)) }
        if hi < .max { remaining.append(Literal(arg: lits[0].arg, op: .le, a: hi, location: loc)) }
        for v in ne.sorted() { remaining.append(Literal(arg: lits[0].arg, op: .ne, a: v, location: loc)) }
        if remaining.isEmpty { return .some(nil) }
        if remaining.count == 1 { return .some(remaining[0]) }
        // Prefer the later literal's position: it is the one that made the rule inexpressible.
        throw PolicyError("libseccomp cannot compare argument \(lits[0].arg) of '\(syscallName)' twice in one rule; split the condition with '||' or use a mask", at: lits.last!.location)
    }
}

extension Normalizer {
    /// Rewrites `< <= > >=` as masked equalities on aligned blocks (like CIDR prefixes):
    /// `a < 6` is `(a & ~3) == 0 || (a & ~1) == 4`. libseccomp 2.5 implements `<` as an
    /// inverted `>=` node and merges the two, so when one syscall has rules with different
    /// actions on `a < v` and `a >= v` (which making the rules disjoint produces) one action is
    /// silently lost. Masked equalities do not share nodes that way.
    func expandRanges(_ d: DNF) throws(PolicyError) -> DNF {
        var out: DNF = []
        for conj in d {
            var product: DNF = [[]]
            for lit in conj {
                let range: (UInt64, UInt64)?
                switch lit.op {
                case .lt: range = lit.a == 0 ? nil : (0, lit.a - 1)
                case .le: range = (0, lit.a)
                case .gt: range = lit.a == .max ? nil : (lit.a + 1, .max)
                case .ge: range = (lit.a, .max)
                default:
                    product = product.map { $0 + [lit] }
                    continue
                }
                guard let (lo, hi) = range else { product = []; break }
                let blocks = Normalizer.blocks(lo, hi).map { (mask, value) in
                    [Literal(arg: lit.arg, op: .maskedEq, a: mask, b: value, location: lit.location)]
                }
                product = try and(product, blocks)
            }
            out += product
            if out.count > Normalizer.maxTerms * 4 { throw tooComplex() }
        }
        return try simplify(out)
    }

    /// Aligned power-of-two blocks exactly covering [lo, hi], as (mask, value) pairs.
    static func blocks(_ lo: UInt64, _ hi: UInt64) -> [(UInt64, UInt64)] {
        var out: [(UInt64, UInt64)] = []
        var cur = lo
        while true {
            var k = cur == 0 ? 64 : cur.trailingZeroBitCount
            // Shrink the block until it ends within hi.
            while k > 0 {
                let end = k == 64 ? UInt64.max : cur | ((1 << UInt64(k)) - 1)
                if end <= hi { break }
                k -= 1
            }
            let size: UInt64 = k == 64 ? 0 : 1 << UInt64(k)
            let mask: UInt64 = k == 64 ? 0 : ~(size - 1)
            out.append((mask, cur))
            let end = k == 64 ? UInt64.max : cur | (size - 1)
            if end >= hi { break }
            cur = end + 1
        }
        return out
    }
}

extension CompareOp {
    func negatedIf(_ flag: Bool) -> CompareOp { flag ? negated : self }
}
