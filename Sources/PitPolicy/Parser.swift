/// Recursive-descent parser for the kafel language plus Pit's `ARCH`, `REPORT` and `KILL_THREAD`.
///
///     file      := (policy | stmts | DEFAULT action | arch)*     kafel: top-level statements form the main policy
///     stmts     := item (',' item)*
///     policy    := POLICY name '{' [item (',' item)* [',']] '}'   (commas between items optional)
///     item      := USE name (',' name)* | action '{' [rule (',' rule)* [',']] '}'
///     arch      := ARCH archname (',' archname)*
///     rule      := (name | SYSCALL '[' number ']') ['(' [param (',' param)*] ')'] [ON arches] ['{' expr '}']
///     arches    := archname | '{' archname (',' archname)* '}'
///     action    := ALLOW | KILL | DENY | KILL_PROCESS | KILL_THREAD | LOG | TRAP | REPORT | USER_NOTIF | ERRNO '(' const ')'
///     expr      := and ('||' and)* ;  and := unary ('&&' unary)* ;  unary := '!' unary | cmp
///     cmp       := bitor [('=='|'!='|'<'|'<='|'>'|'>=') bitor] ;  bitor := bitand ('|' bitand)* ;  bitand := prim ('&' prim)*
struct Parser {
    static let actionKeywords: Set<String> = ["ALLOW", "KILL", "KILL_PROCESS", "KILL_THREAD", "LOG", "TRAP", "REPORT", "ERRNO",
                                              "DENY", "TRACE", "USER_NOTIF"]
    /// kafel's keywords (`define` included: its lexer reserves it) and Pit's.
    static let keywords: Set<String> = actionKeywords.union(["POLICY", "USE", "DEFAULT", "ARCH", "SYSCALL", "ON", "define"])
    /// kafel's architecture names for `ON`, with Pit's name where Pit builds filters for it.
    static let guardArches: [String: String] = [
        "x86_64": "x86_64", "amd64": "x86_64", "x86": "i386", "i386": "i386", "aarch64": "aarch64", "arm64": "aarch64",
        "arm": "arm", "mips": "mips", "mipso32": "mips", "mips64": "mips64", "riscv64": "riscv64", "rv64": "riscv64",
        "m68k": "m68k", "x32": "x32",
    ]
    /// Deep nesting would overflow the stack of a recursive parser (found by the mutation test).
    static let maxNesting = 100

    var tokens: [Token]
    var index = 0
    let defines: [String: Preprocessor.Define]
    let file: String
    var nesting = 0
    /// Values of #defines already expanded, shared with the sub-parsers of `lookup`, so each
    /// define is evaluated once: without it `#define b a|a`, `#define c b|b`, ... is exponential.
    final class DefineValues { var values: [String: UInt64] = [:] }
    /// The built-in argument names the rule being parsed uses (see SyscallRule.builtinArgs).
    final class BuiltinNames { var names: [String] = [] }
    var builtins = BuiltinNames()
    let defineValues: DefineValues

    init(tokens: [Token], defines: [String: Preprocessor.Define], file: String, defineValues: DefineValues = DefineValues()) {
        self.tokens = tokens
        self.defines = defines
        self.file = file
        self.defineValues = defineValues
    }

    var current: Token { tokens[index] }
    var peekNext: Token { tokens[min(index + 1, tokens.count - 1)] }

    mutating func advance() -> Token {
        let t = tokens[index]
        if index < tokens.count - 1 { index += 1 }
        return t
    }

    static func describe(_ kind: TokenKind) -> String {
        switch kind {
        case .identifier(let s): return "'\(s)'"
        case .number(let n): return "number \(n)"
        case .string(let s): return "string \"\(s)\""
        case .punct(let p): return "'\(p)'"
        case .directive(let d): return "'#\(d)'"
        case .eof: return "end of file"
        }
    }

    func fail(_ expected: String) -> PolicyError {
        PolicyError("expected \(expected), found \(Parser.describe(current.kind))", at: current.location)
    }

    func isPunct(_ p: String) -> Bool {
        if case .punct(p) = current.kind { return true }
        return false
    }

    func isKeyword(_ k: String) -> Bool {
        if case .identifier(k) = current.kind { return true }
        return false
    }

    /// Consumes `p` when it is the current token.
    mutating func eat(_ p: String) -> Bool {
        guard isPunct(p) else { return false }
        _ = advance()
        return true
    }

    mutating func expectPunct(_ p: String) throws(PolicyError) -> Token {
        guard isPunct(p) else { throw fail("'\(p)'") }
        return advance()
    }

    mutating func expectName(_ what: String) throws(PolicyError) -> (String, SourceLocation) {
        guard case .identifier(let s) = current.kind else { throw fail(what) }
        if Parser.keywords.contains(s) {
            throw PolicyError("'\(s)' is a keyword and cannot be used as \(what)", at: current.location)
        }
        let loc = advance().location
        return (s, loc)
    }

    // MARK: top level

    mutating func parseFile(expandedText: String) throws(PolicyError) -> PolicyAST {
        var policies: [PolicyDecl] = []
        // Where each policy is declared: a name lookup per declaration and USE, not a scan of every policy
        // (quadratic: 20000 policies took 11 s).
        var declared: [String: SourceLocation] = [:]
        var arches: [ArchDecl] = []
        // kafel: statements outside any POLICY (USE lines and action blocks, in order) form the main
        // policy; `DEFAULT action` stands alone, at most once. `USE a, b DEFAULT KILL` is both.
        var main: [PolicyItem] = []
        var firstMain: SourceLocation?
        var defaultAction: (PolicyAction, SourceLocation)?
        while true {
            let tok = current
            switch tok.kind {
            case .eof:
                guard firstMain != nil || defaultAction != nil else {
                    throw PolicyError("nothing to enforce: add rules at the top level, or 'USE policy DEFAULT action'", at: tok.location)
                }
                for p in policies {
                    for case .use(let name, let loc) in p.items where declared[name] == nil {
                        throw PolicyError("unknown policy '\(name)'", at: loc)
                    }
                }
                var refs: [PolicyReference] = []
                var onlyUses = true
                for item in main {
                    switch item {
                    case .use(let name, let loc):
                        guard declared[name] != nil else { throw PolicyError("unknown policy '\(name)'", at: loc) }
                        refs.append(PolicyReference(name: name, location: loc))
                    case .block: onlyUses = false
                    }
                }
                let useLoc = firstMain ?? defaultAction?.1 ?? tok.location
                if !onlyUses {
                    // A name no policy can have (not an identifier), so it cannot clash.
                    policies.append(PolicyDecl(name: "@main", location: useLoc, items: main))
                    refs = [PolicyReference(name: "@main", location: useLoc)]
                }
                let use = UseStatement(policies: refs, defaultAction: defaultAction?.0 ?? .killProcess, location: useLoc)
                return PolicyAST(file: file, policies: policies, use: use, arches: arches, expandedText: expandedText)
            case .identifier("POLICY"):
                _ = advance()
                let (name, loc) = try expectName("a policy name")
                if let prev = declared[name] {
                    throw PolicyError("policy '\(name)' already defined at line \(prev.line)", at: loc)
                }
                declared[name] = loc
                let items = try parsePolicyBody()
                policies.append(PolicyDecl(name: name, location: loc, items: items))
            case .identifier("DEFAULT"):
                _ = advance()
                if let prev = defaultAction {
                    throw PolicyError("default action already given at line \(prev.1.line)", at: tok.location)
                }
                defaultAction = (try parseAction(), tok.location)
            case .identifier("ARCH"):
                _ = advance()
                repeat {
                    guard case .identifier(let n) = current.kind else { throw fail("an architecture name") }
                    guard SeccompArch(name: n) != nil else {
                        throw PolicyError("unknown architecture '\(n)' (known: \(SeccompArch.all.map(\.name).joined(separator: ", ")))", at: current.location)
                    }
                    arches.append(ArchDecl(name: n, location: advance().location))
                } while eat(",")
            case .identifier(let k) where k == "USE" || Parser.actionKeywords.contains(k):
                if firstMain == nil { firstMain = tok.location }
                main += try parseItem()
                _ = eat(",")
            default:
                throw fail("'POLICY', 'USE', an action (ALLOW, KILL, ERRNO(n), ...), 'DEFAULT' or 'ARCH'")
            }
        }
    }

    /// One policy statement: `USE a, b` or an action block.
    mutating func parseItem() throws(PolicyError) -> [PolicyItem] {
        if isKeyword("USE") {
            _ = advance()
            var items: [PolicyItem] = []
            repeat {
                let (n, l) = try expectName("a policy name")
                items.append(.use(name: n, location: l))
                // `USE a, b` continues only while a policy name (not an action) follows the comma.
                if isPunct(","), case .identifier(let next) = peekNext.kind, !Parser.keywords.contains(next) {
                    _ = advance()
                    continue
                }
                break
            } while true
            return items
        }
        let loc = current.location
        let action = try parseAction()
        let rules = try parseRules()
        return [.block(ActionBlock(action: action, location: loc, rules: rules))]
    }

    mutating func parsePolicyBody() throws(PolicyError) -> [PolicyItem] {
        _ = try expectPunct("{")
        var items: [PolicyItem] = []
        while !isPunct("}") {
            if case .identifier(let k) = current.kind, k == "USE" || Parser.actionKeywords.contains(k) {
                items += try parseItem()
            } else {
                throw fail("an action (ALLOW, KILL, ERRNO(n), ...), 'USE' or '}'")
            }
            if isPunct(",") { _ = advance() }
        }
        _ = advance()
        return items
    }

    mutating func parseAction() throws(PolicyError) -> PolicyAction {
        guard case .identifier(let k) = current.kind, Parser.actionKeywords.contains(k) else {
            throw fail("an action (ALLOW, KILL, KILL_PROCESS, KILL_THREAD, ERRNO(n), LOG, TRAP(n), TRACE(n), REPORT)")
        }
        let loc = advance().location
        switch k {
        case "ALLOW": return .allow
        case "KILL", "DENY", "KILL_PROCESS": return .killProcess   // Pit: KILL kills the process (see PolicyAction)
        case "KILL_THREAD": return .killThread
        case "LOG": return .log
        case "TRAP", "TRACE":
            // kafel's TRAP(n) and TRACE(n): the value goes to the signal's si_errno or to the tracer. Pit also takes a
            // bare TRAP (TRAP(0)); TRACE needs its value, as in kafel.
            var v: UInt64 = 0
            if k == "TRACE" || isPunct("(") {
                _ = try expectPunct("(")
                let vloc = current.location
                v = try parseConstant()
                guard v <= 0xffff else { throw PolicyError("\(k.lowercased()) value \(v) out of range 0...65535", at: vloc) }
                _ = try expectPunct(")")
            }
            return k == "TRAP" ? .trap(UInt16(v)) : .trace(UInt16(v))
        case "REPORT", "USER_NOTIF": return .report
        default: // ERRNO
            _ = try expectPunct("(")
            let loc = current.location
            let v = try parseConstant()
            // libseccomp 2.5 accepts ERRNO data below MAX_ERRNO (4095) only.
            guard v <= 4094 else { throw PolicyError("errno value \(v) out of range 0...4094", at: loc) }
            _ = try expectPunct(")")
            return .errno(Int32(v))
        }
    }

    mutating func parseRules() throws(PolicyError) -> [SyscallRule] {
        _ = try expectPunct("{")
        var rules: [SyscallRule] = []
        while !isPunct("}") {
            rules.append(try parseRule())
            if isPunct(",") { _ = advance(); continue }
            guard isPunct("}") else { throw fail("',' or '}'") }
        }
        _ = advance()
        return rules
    }

    mutating func parseRule() throws(PolicyError) -> SyscallRule {
        let loc = current.location
        let ref: SyscallRef
        if isKeyword("SYSCALL") {
            _ = advance()
            _ = try expectPunct("[")
            guard case .number(let n) = current.kind else { throw fail("a syscall number") }
            ref = .number(try Parser.syscallNumber(n, at: current.location))
            _ = advance()
            _ = try expectPunct("]")
        } else {
            guard case .identifier(let s) = current.kind else { throw fail("a syscall name") }
            if Parser.keywords.contains(s) {
                throw PolicyError("expected a syscall name, found keyword '\(s)' (missing '}'?)", at: current.location)
            }
            let nameLoc = advance().location
            // kafel: a #define'd name is a syscall number (`#define SYS_CUSTOM 500` ... `ALLOW { SYS_CUSTOM }`).
            if defines[s] != nil, case .constant(let v, _) = try lookup(s, nameLoc, params: [], syscall: nil) {
                ref = .number(try Parser.syscallNumber(v, at: nameLoc))
            } else {
                ref = .name(s)
            }
        }
        var params: [String] = []
        if isPunct("(") {
            _ = advance()
            if !isPunct(")") {
                repeat {
                    let (p, l) = try expectName("an argument name")
                    if params.contains(p) { throw PolicyError("argument '\(p)' named twice", at: l) }
                    guard params.count < 6 else { throw PolicyError("a syscall has at most 6 arguments", at: l) }
                    params.append(p)
                } while eat(",")
            }
            _ = try expectPunct(")")
        }
        var onArches: [String]?
        if isKeyword("ON") {
            _ = advance()
            var names: [String] = []
            let braced = eat("{")
            repeat {
                guard case .identifier(let n) = current.kind else { throw fail("an architecture name") }
                guard let canonical = Parser.guardArches[n] else {
                    throw PolicyError("unknown architecture '\(n)' (known: \(Parser.guardArches.keys.sorted().joined(separator: ", ")))", at: current.location)
                }
                if names.contains(canonical) { throw PolicyError("architecture '\(n)' listed twice", at: current.location) }
                names.append(canonical)
                _ = advance()
            } while braced && eat(",")
            if braced { _ = try expectPunct("}") }
            onArches = names
        }
        var condition: Condition?
        if isPunct("{") {
            _ = advance()
            let raw = try parseAlternatives()
            _ = try expectPunct("}")
            builtins = BuiltinNames()
            condition = try typeCheck(raw, params: params, syscall: ref)
        }
        return SyscallRule(syscall: ref, location: loc, parameters: params, condition: condition, builtinArgs: builtins.names,
                           onArches: onArches)
    }

    /// A syscall number as kafel takes it: a 32-bit value, negative ones (`-1`) as their int32 pattern.
    static func syscallNumber(_ n: UInt64, at loc: SourceLocation) throws(PolicyError) -> Int {
        if n <= 0xFFFF_FFFF { return Int(Int32(truncatingIfNeeded: n)) }
        if n >= 0xFFFF_FFFF_8000_0000 { return Int(Int64(bitPattern: n)) }
        throw PolicyError("syscall number \(n) out of range (32 bits)", at: loc)
    }

    // MARK: expressions

    indirect enum Raw {
        case number(UInt64, SourceLocation)
        case name(String, SourceLocation)
        case binary(String, Raw, Raw, SourceLocation)   // && || & | == != < <= > >=
        case not(Raw, SourceLocation)

        var location: SourceLocation {
            switch self {
            case .number(_, let l), .name(_, let l), .binary(_, _, _, let l), .not(_, let l): return l
            }
        }
    }

    mutating func enter() throws(PolicyError) {
        nesting += 1
        if nesting > Parser.maxNesting { throw PolicyError("expression nested too deeply", at: current.location) }
    }

    /// kafel's lowest level: `a, b` in a condition (or in parentheses) means `a || b`.
    mutating func parseAlternatives() throws(PolicyError) -> Raw {
        var lhs = try parseOr()
        var chained = 0
        defer { nesting -= chained }
        while isPunct(",") {
            chained += 1; try enter()
            let l = advance().location
            lhs = .binary("||", lhs, try parseOr(), l)
        }
        return lhs
    }

    mutating func parseOr() throws(PolicyError) -> Raw {
        try enter(); defer { nesting -= 1 }
        return try chain("||") { p throws(PolicyError) in try p.parseAnd() }
    }

    mutating func parseAnd() throws(PolicyError) -> Raw {
        try chain("&&") { p throws(PolicyError) in try p.parseUnary() }
    }

    /// `operand (op operand)*`, grouped to the left. Each operator counts as a level of nesting: the
    /// left-deep tree a long chain builds is walked recursively by every later pass.
    mutating func chain(_ op: String, _ operand: (inout Parser) throws(PolicyError) -> Raw) throws(PolicyError) -> Raw {
        var lhs = try operand(&self)
        var chained = 0
        defer { nesting -= chained }
        while isPunct(op) {
            chained += 1; try enter()
            let l = advance().location
            lhs = .binary(op, lhs, try operand(&self), l)
        }
        return lhs
    }

    mutating func parseUnary() throws(PolicyError) -> Raw {
        if isPunct("!") {
            try enter(); defer { nesting -= 1 }
            let l = advance().location
            return .not(try parseUnary(), l)
        }
        return try parseComparison()
    }

    mutating func parseComparison() throws(PolicyError) -> Raw {
        let lhs = try parseBits()
        if case .punct(let p) = current.kind, ["==", "!=", "<", "<=", ">", ">="].contains(p) {
            let l = advance().location
            let rhs = try parseBits()
            if case .punct(let p2) = current.kind, ["==", "!=", "<", "<=", ">", ">="].contains(p2) {
                throw PolicyError("comparisons cannot be chained; use '&&'", at: current.location)
            }
            return .binary(p, lhs, rhs, l)
        }
        return lhs
    }

    /// `|` binds looser than `&`, as in C and kafel: `a | b & c` is `a | (b & c)`.
    mutating func parseBits() throws(PolicyError) -> Raw {
        try chain("|") { p throws(PolicyError) in try p.parseBitAnd() }
    }

    mutating func parseBitAnd() throws(PolicyError) -> Raw {
        try chain("&") { p throws(PolicyError) in try p.parsePrimary() }
    }

    mutating func parsePrimary() throws(PolicyError) -> Raw {
        let tok = current
        switch tok.kind {
        case .number(let n): _ = advance(); return .number(n, tok.location)
        case .identifier(let s):
            if Parser.keywords.contains(s) { throw fail("an argument name, a constant or '('") }
            _ = advance()
            return .name(s, tok.location)
        case .punct("("):
            _ = advance()
            let inner = try parseAlternatives()
            _ = try expectPunct(")")
            return inner
        default:
            throw fail("an argument name, a constant or '('")
        }
    }

    /// A constant expression (ERRNO argument, #define value): numbers, defines, '&', '|', parentheses.
    mutating func parseConstant() throws(PolicyError) -> UInt64 {
        let raw = try parseBits()
        guard case .constant(let v, _) = try value(raw, params: [], syscall: nil) else {
            throw PolicyError("expected a constant", at: raw.location)
        }
        return v
    }

    // MARK: typing

    enum Value {
        case constant(UInt64, SourceLocation)
        case arg(Int, mask: UInt64?, SourceLocation)
        /// `&` and `|` over arguments beyond `arg & constant`: compared bit by bit (see `bitwise`).
        case bits(BitExpr, SourceLocation)
    }

    indirect enum BitExpr {
        case arg(Int), constant(UInt64), and(BitExpr, BitExpr), or(BitExpr, BitExpr)

        init(_ v: Value) {
            switch v {
            case .constant(let c, _): self = .constant(c)
            case .arg(let i, nil, _): self = .arg(i)
            case .arg(let i, let m?, _): self = .and(.arg(i), .constant(m))
            case .bits(let e, _): self = e
            }
        }

        var args: Set<Int> {
            switch self {
            case .arg(let i): return [i]
            case .constant: return []
            case .and(let a, let b), .or(let a, let b): return a.args.union(b.args)
            }
        }

        var widestConstant: UInt64 {
            switch self {
            case .arg: return 0
            case .constant(let c): return c
            case .and(let a, let b), .or(let a, let b): return max(a.widestConstant, b.widestConstant)
            }
        }

        func evaluate(_ value: (Int) -> UInt64) -> UInt64 {
            switch self {
            case .arg(let i): return value(i)
            case .constant(let c): return c
            case .and(let a, let b): return a.evaluate(value) & b.evaluate(value)
            case .or(let a, let b): return a.evaluate(value) | b.evaluate(value)
            }
        }
    }

    /// Resolves a name: a parameter of the rule, an implicit argN, or a #define.
    func lookup(_ name: String, _ loc: SourceLocation, params: [String], syscall: SyscallRef?, depth: Int = 0) throws(PolicyError) -> Value {
        if let i = params.firstIndex(of: name) { return .arg(i, mask: nil, loc) }
        // Pit's positional argN, unless kafel names an argument of the syscall so: prctl's and keyctl's `arg2`...`arg5`
        // and sysfs's `arg1`, `arg2` are their 2nd... arguments in kafel (prctl's arg3 is arg index 2), and kafel's wins.
        if syscall != nil, name.count == 4, name.hasPrefix("arg"), let d = name.last?.wholeNumberValue, d < 6, !params.contains(name),
           !(params.isEmpty && isBuiltinName(name, of: syscall)) {
            return .arg(d, mask: nil, loc)
        }
        if let def = defines[name] {
            if let v = defineValues.values[name] { return .constant(v, loc) }
            guard depth < 32 else { throw PolicyError("#define '\(name)' expands recursively", at: loc) }
            var sub = Parser(tokens: def.tokens + [Token(kind: .eof, location: def.location)], defines: defines, file: file,
                             defineValues: defineValues)
            let raw = try sub.parseBits()
            guard case .eof = sub.current.kind else {
                throw PolicyError("#define '\(name)' is not a constant expression", at: sub.current.location)
            }
            // A define used as a constant must not capture the rule's parameter names.
            switch try sub.value(raw, params: [], syscall: nil, depth: depth + 1) {
            case .constant(let v, _): defineValues.values[name] = v; return .constant(v, loc)
            case .arg, .bits: throw PolicyError("#define '\(name)' is not a constant", at: loc)
            }
        }
        // kafel's built-in names, when the rule declares none of its own (as in kafel, a #define wins).
        if params.isEmpty, case .name(let syscallName)? = syscall {
            let known = SyscallArgs.builtinNames(of: syscallName)
            if known.contains(name) {
                if let i = builtins.names.firstIndex(of: name) { return .arg(SyscallRule.builtinBase + i, mask: nil, loc) }
                builtins.names.append(name)
                return .arg(SyscallRule.builtinBase + builtins.names.count - 1, mask: nil, loc)
            }
            if !known.isEmpty {
                throw PolicyError("unknown name '\(name)' (\(syscallName)'s arguments are \(known.joined(separator: ", ")); not a #define either)", at: loc)
            }
        }
        let what = syscall.map { "an argument of \($0)" } ?? "a constant"
        throw PolicyError("unknown name '\(name)' (not \(what) nor a #define)", at: loc)
    }

    func isBuiltinName(_ name: String, of syscall: SyscallRef?) -> Bool {
        guard case .name(let syscallName)? = syscall else { return false }
        return SyscallArgs.builtinNames(of: syscallName).contains(name)
    }

    func value(_ raw: Raw, params: [String], syscall: SyscallRef?, depth: Int = 0) throws(PolicyError) -> Value {
        switch raw {
        case .number(let n, let l): return .constant(n, l)
        case .name(let s, let l): return try lookup(s, l, params: params, syscall: syscall, depth: depth)
        case .binary(let op, let a, let b, let l) where op == "&" || op == "|":
            let va = try value(a, params: params, syscall: syscall, depth: depth)
            let vb = try value(b, params: params, syscall: syscall, depth: depth)
            switch (va, vb) {
            case (.constant(let x, _), .constant(let y, _)):
                return .constant(op == "&" ? x & y : x | y, l)
            case (.arg(let i, let m, let al), .constant(let c, _)) where op == "&", (.constant(let c, _), .arg(let i, let m, let al)) where op == "&":
                return .arg(i, mask: (m ?? ~0) & c, al)
            default:
                let x = BitExpr(va), y = BitExpr(vb)
                return .bits(op == "&" ? .and(x, y) : .or(x, y), l)
            }
        default:
            throw PolicyError("expected a value, found a condition", at: raw.location)
        }
    }

    func typeCheck(_ raw: Raw, params: [String], syscall: SyscallRef) throws(PolicyError) -> Condition {
        switch raw {
        case .binary("&&", let a, let b, _):
            return .and(try typeCheck(a, params: params, syscall: syscall), try typeCheck(b, params: params, syscall: syscall))
        case .binary("||", let a, let b, _):
            return .or(try typeCheck(a, params: params, syscall: syscall), try typeCheck(b, params: params, syscall: syscall))
        case .not(let a, _):
            return .not(try typeCheck(a, params: params, syscall: syscall))
        case .binary(let op, let a, let b, let l) where op != "&" && op != "|":
            let cop = CompareOp(rawValue: op)!
            let va = try value(a, params: params, syscall: syscall)
            let vb = try value(b, params: params, syscall: syscall)
            switch (va, vb) {
            case (.constant(let x, _), .constant(let y, _)):
                let r: Bool
                switch cop {
                case .eq: r = x == y
                case .ne: r = x != y
                case .lt: r = x < y
                case .le: r = x <= y
                case .gt: r = x > y
                case .ge: r = x >= y
                }
                return .constant(r)
            case (.arg(let i, let m, let al), .constant(let c, _)):
                return try compare(i, m, cop, c, al, l)
            case (.constant(let c, _), .arg(let i, let m, let al)):
                return try compare(i, m, cop.mirrored, c, al, l)
            default:
                return try bitwise(BitExpr(va), BitExpr(vb), cop, l, params: params, syscall: syscall)
            }
        default:
            // A bare value is a truth test, as in C: `a` means a != 0, `a & m` means (a & m) != 0.
            switch try value(raw, params: params, syscall: syscall) {
            case .constant(let v, _): return .constant(v != 0)
            case .arg(let i, nil, let l): return .compare(arg: i, mask: nil, op: .ne, value: 0, location: l)
            case .arg(let i, let m?, let l): return .anyBit(arg: i, mask: m, location: l)
            case .bits(let e, let l): return try bitwise(e, .constant(0), .ne, l, params: params, syscall: syscall)
            }
        }
    }

    /// `x == y` (or `!=`) where x and y combine arguments and constants with `&` and `|`. Those act
    /// on each bit alone, so bit i of the comparison depends only on bit i of each argument: its
    /// truth table comes from evaluating both sides with every argument all-zeros or all-ones. When,
    /// for every bit, the satisfying assignments are a product (each argument's bit free or fixed),
    /// the condition is one masked equality per argument (`count | 8 | fd == 8` is
    /// `(count & ~8) == 0 && (fd & ~8) == 0`). Otherwise it relates two arguments' bits, which
    /// seccomp rules through libseccomp cannot express: an error. Like kafel, only the low 32 bits
    /// count when every argument is 32-bit and every constant fits in 32 bits.
    func bitwise(_ x: BitExpr, _ y: BitExpr, _ op: CompareOp, _ loc: SourceLocation, params: [String],
                 syscall: SyscallRef) throws(PolicyError) -> Condition {
        guard op == .eq || op == .ne else {
            throw PolicyError("'\(op.rawValue)' cannot compare an expression with '|' or several arguments (only '==' and '!=' can be filtered bit by bit)", at: loc)
        }
        let args = x.args.union(y.args).sorted()
        guard args.count <= 6 else { throw PolicyError("expression over too many arguments", at: loc) }
        let wide = max(x.widestConstant, y.widestConstant) > 0xFFFF_FFFF || args.contains { argIsWide($0, syscall: syscall) }
        let bitsConsidered: UInt64 = wide ? .max : 0xFFFF_FFFF
        let assignments = 1 << args.count
        var holds: [UInt64] = []            // per assignment: the bits where x == y
        for a in 0..<assignments {
            let value: (Int) -> UInt64 = { i in a & (1 << args.firstIndex(of: i)!) != 0 ? .max : 0 }
            holds.append(~(x.evaluate(value) ^ y.evaluate(value)))
        }
        var masks = [UInt64](repeating: 0, count: args.count), values = [UInt64](repeating: 0, count: args.count)
        var never = false
        for bit in 0..<64 where bitsConsidered & (1 << UInt64(bit)) != 0 {
            let b: UInt64 = 1 << UInt64(bit)
            let sat = (0..<assignments).filter { holds[$0] & b != 0 }
            if sat.isEmpty { never = true; break }
            if sat.count == assignments { continue }
            var product = 1
            var fixed: [(Int, Bool)] = []
            for j in args.indices {
                let ones = sat.contains { $0 & (1 << j) != 0 }, zeros = sat.contains { $0 & (1 << j) == 0 }
                if ones && zeros { product *= 2 } else { fixed.append((j, ones)) }
            }
            guard product == sat.count else {
                let names = args.map { argName($0, params: params) }.joined(separator: ", ")
                throw PolicyError("this condition relates the bits of several arguments (\(names)): seccomp filters built with libseccomp compare one argument at a time", at: loc)
            }
            for (j, one) in fixed {
                masks[j] |= b
                if one { values[j] |= b }
            }
        }
        var result: Condition = .constant(!never)
        if !never {
            for (j, arg) in args.enumerated() where masks[j] != 0 {
                let c: Condition = .compare(arg: arg, mask: masks[j], op: .eq, value: values[j], location: loc)
                result = result == .constant(true) ? c : .and(result, c)
            }
        }
        return op == .eq ? result : .not(result)
    }

    /// Whether kafel would compare the argument on 64 bits: its x86_64 (else aarch64) width is 8 or unknown.
    func argIsWide(_ i: Int, syscall: SyscallRef) -> Bool {
        guard case .name(let written) = syscall else { return true }
        for arch in [SeccompArch.x86_64, .aarch64] {
            guard case .success(.syscall(let name, let nr)) = SyscallNames.resolve(written, arch: arch),
                  let list = SyscallArgs.arguments(of: name, number: nr, arch: arch) else { continue }
            let index = i >= SyscallRule.builtinBase
                ? list.firstIndex { $0.name == builtins.names[i - SyscallRule.builtinBase] } : i
            guard let index, index < list.count else { return true }
            return list[index].size == 8
        }
        return true
    }

    func argName(_ i: Int, params: [String]) -> String {
        if i >= SyscallRule.builtinBase { return builtins.names[i - SyscallRule.builtinBase] }
        return i < params.count ? params[i] : "arg\(i)"
    }

    func compare(_ arg: Int, _ mask: UInt64?, _ op: CompareOp, _ value: UInt64, _ argLoc: SourceLocation, _ opLoc: SourceLocation) throws(PolicyError) -> Condition {
        if mask != nil && op != .eq && op != .ne {
            throw PolicyError("a masked argument can only be compared with '==' or '!=' (seccomp has only masked equality)", at: opLoc)
        }
        return .compare(arg: arg, mask: mask, op: op, value: value, location: opLoc)
    }
}

extension PolicyCompiler {
    public static func parse(_ source: PolicySource) throws(PolicyError) -> PolicyAST {
        var pre = Preprocessor()
        try pre.run(source)
        var parser = Parser(tokens: pre.tokens, defines: pre.defines, file: source.file)
        return try parser.parseFile(expandedText: pre.expandedText)
    }
}
