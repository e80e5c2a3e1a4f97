/// Expands `#include "file"` (relative to the including file) and collects `#define NAME value`
/// into one token stream. Defines are substituted by the parser, only where a constant is
/// expected, so a define cannot silently rename a syscall or a policy.
struct Preprocessor {
    struct Define: Sendable {
        var tokens: [Token]
        var location: SourceLocation
    }

    /// kafel has no documented limit; 16 is deep enough for layered policies and stops runaway
    /// self-inclusion through different spellings of a path.
    static let maxIncludeDepth = 16
    /// Depth alone does not bound the work: a file may include the same file many times (several names on one
    /// `#include` line, or several lines), and each of those again, so a few small files expand exponentially.
    /// Limits on the whole expansion keep a hostile policy from hanging the compiler or exhausting memory.
    static let maxIncludes = 1024
    static let maxIncludedBytes = 16 << 20

    /// Files included so far and their bytes, over the whole expansion (every level, repeats counted).
    private var includes = 0
    private var includedBytes = 0

    var defines: [String: Define] = [:]
    var tokens: [Token] = []

    /// The policy text after #include expansion: what `CompiledPolicy.hash` covers, so that a
    /// change in an included file changes the hash.
    private(set) var expandedText = ""
    /// Where the top-level file ends: "missing USE" points there.
    private var endOfRoot: SourceLocation?

    mutating func run(_ source: PolicySource) throws(PolicyError) {
        let root = source.file.hasPrefix("<") ? "<seccomp-string>" : FileIO.canonical(source.file)
        expandedText = try expand(text: source.text, file: source.file, stack: [root])
        tokens.append(Token(kind: .eof, location: endOfRoot
                            ?? SourceLocation(file: source.file, line: 1, column: 1, lineText: "")))
    }

    private mutating func expand(text: String, file: String, stack: [String]) throws(PolicyError) -> String {
        var lexer = Lexer(text: text, file: file)
        // Included text replaces the #include line in the expanded text.
        var replacements: [Int: String] = [:]
        while true {
            let tok = try lexer.next()
            switch tok.kind {
            case .eof:
                if stack.count == 1 { endOfRoot = tok.location }
                var out = ""
                for (i, l) in lexer.lines.enumerated() {
                    if i > 0 { out += "\n" }
                    out += replacements[i + 1] ?? l
                }
                return out
            case .directive("include"):
                // kafel: `#include "a.policy" "b.policy"` — blanks after #include and between names, ended by
                // the line's end or `;` (after which the line goes on as policy text).
                let afterDirective = lexer.offset
                try lexer.skipInlineBlanks()
                if lexer.offset == afterDirective && !lexer.atEndOfLine {
                    throw PolicyError("expected a blank after #include", at: lexer.here)
                }
                var names: [(String, SourceLocation)] = []
                var restOfLine = false
                while true {
                    let pathTok = try lexer.next()
                    guard case .string(let rel) = pathTok.kind, pathTok.location.line == tok.location.line else {
                        throw PolicyError("expected a quoted file name after #include", at: pathTok.location.line == tok.location.line ? pathTok.location : tok.location)
                    }
                    guard !rel.isEmpty else { throw PolicyError("empty file name in #include", at: pathTok.location) }
                    names.append((rel, pathTok.location))
                    let afterName = lexer.offset
                    try lexer.skipInlineBlanks()
                    if lexer.atEndOfLine { break }
                    if lexer.eatSemicolon() { restOfLine = true; break }
                    if lexer.offset == afterName {
                        throw PolicyError("expected a blank between file names in #include", at: lexer.here)
                    }
                }
                guard stack.count < Preprocessor.maxIncludeDepth + 1 else {
                    throw PolicyError("#include nested deeper than \(Preprocessor.maxIncludeDepth) levels", at: tok.location)
                }
                var expansions: [String] = []
                for (rel, loc) in names {
                    let base = file.hasPrefix("<") ? "." : FileIO.directory(of: file)
                    let path = rel.hasPrefix("/") ? rel : (base == "." ? rel : base + "/" + rel)
                    let canon = FileIO.canonical(path)
                    if stack.contains(canon) {
                        throw PolicyError("#include cycle: \"\(rel)\" is already being included", at: loc)
                    }
                    let included: String
                    switch FileIO.readText(path) {
                    case .success(let t): included = t
                    case .failure(let e): throw PolicyError("cannot include \"\(rel)\": \(e.message)", at: loc)
                    }
                    includes += 1
                    includedBytes += included.utf8.count
                    guard includes <= Preprocessor.maxIncludes else {
                        throw PolicyError("more than \(Preprocessor.maxIncludes) #includes in all (the same files included again and again?)", at: loc)
                    }
                    guard includedBytes <= Preprocessor.maxIncludedBytes else {
                        throw PolicyError("included text exceeds \(Preprocessor.maxIncludedBytes >> 20) MiB in all (the same files included again and again?)", at: loc)
                    }
                    expansions.append(try expand(text: included, file: path, stack: stack + [canon]))
                }
                // The hashed text keeps what follows a `;` on the line.
                let line = tok.location.line
                if restOfLine { expansions.append(lexer.lines[line - 1]) }
                replacements[line] = expansions.joined(separator: "\n")
            case .directive("define"):
                try lexer.skipInlineBlanks()
                let nameTok = try lexer.next()
                guard case .identifier(let name) = nameTok.kind, nameTok.location.line == tok.location.line else {
                    throw PolicyError("expected a name after #define", at: nameTok.location.line == tok.location.line ? nameTok.location : tok.location)
                }
                var value: [Token] = []
                while true {
                    try lexer.skipInlineBlanks()
                    if lexer.atEndOfLine { break }
                    let t = try lexer.next()
                    if case .directive = t.kind { throw PolicyError("unexpected directive in #define", at: t.location) }
                    value.append(t)
                }
                guard !value.isEmpty else { throw PolicyError("#define \(name) has no value", at: nameTok.location) }
                if let old = defines[name], old.tokens.map(\.kind) != value.map(\.kind) {
                    throw PolicyError("'\(name)' redefined (first defined at \(old.location.file):\(old.location.line))", at: nameTok.location)
                }
                defines[name] = Define(tokens: value, location: nameTok.location)
            case .directive(let other):
                throw PolicyError("unknown directive '#\(other)'", at: tok.location)
            default:
                tokens.append(tok)
            }
        }
    }

}
