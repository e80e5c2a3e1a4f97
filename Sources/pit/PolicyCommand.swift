import ArgumentParser
import PitPolicy

/// `pit policy check|learn`: the seccomp policy tools. The logic lives in PitPolicy.
struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Check, compile and learn seccomp policies (kafel syntax).",
        subcommands: [Check.self, Learn.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Parse, resolve and compile a policy; print the syscall set and BPF size per architecture.")

        @Argument(help: "The policy file.")
        var file: String

        @Option(name: .customLong("arch"), help: "Target architecture (repeatable; default: x86_64, i386, aarch64, arm).")
        var arches: [String] = []

        @Option(name: .customLong("export-bpf"),
                help: "Write the BPF program here (with several --arch: OUT.<arch> for each).")
        var exportBPF: String?

        func run() throws {
            var targets: [SeccompArch] = []
            for name in arches {
                guard let a = SeccompArch(name: name) else {
                    throw ValidationError("unknown architecture '\(name)'")
                }
                targets.append(a)
            }
            if targets.isEmpty { targets = PolicyReport.defaultArches }
            do throws(PolicyError) {
                let source = try PolicySource.read(path: file)
                _ = try PolicyCompiler.parse(source)
                var compiled: [CompiledPolicy] = []
                for a in targets {
                    do throws(PolicyError) {
                        compiled.append(try PolicyCompiler.compile(source, arch: a))
                    } catch where error.needsTargetCompile && arches.isEmpty {
                        // Not asked for by name: the default set goes on, saying what this host could not check.
                        PolicyReport.printError("note: \(a.name) not checked: \(error.description)")
                    }
                }
                for c in compiled { print(PolicyReport.summary(c)) }
                if let out = exportBPF {
                    for c in compiled {
                        try PolicyReport.write(compiled.count == 1 ? out : "\(out).\(c.arch.name)", bytes: c.program)
                    }
                }
            } catch {
                PolicyReport.printError(error.description)
                throw ExitCode(ExitStatus.failure)
            }
        }
    }

    struct Learn: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write an allow-list policy from perf, strace or syscall-number recordings.")

        @Option(help: "Recording format: perf (perf script of raw_syscalls:sys_enter), strace (strace -f), numbers.")
        var format: RecordingFormat = .strace

        @Option(help: "Architecture the recordings were made on (default: native).")
        var arch: String?

        @Option(name: .shortAndLong, help: "Write the policy here instead of standard output.")
        var output: String?

        @Option(help: "Print +/- syscall differences against this older policy (to stderr unless -o is given).")
        var diff: String?

        @Option(help: "Name of the learned policy.")
        var name: String = "learned"

        @Argument(help: "Recordings to merge.")
        var recordings: [String]

        func run() throws {
            guard let a = arch.map({ SeccompArch(name: $0) }) ?? SeccompArch.native else {
                throw ValidationError("unknown architecture '\(arch ?? "")'")
            }
            do throws(PolicyError) {
                var learner = SyscallLearner(arch: a)
                for path in recordings { learner.add(try PolicyReport.readText(path), format: format) }
                let text = learner.policy(name: name)
                if let output { try PolicyReport.write(output, bytes: Array(text.utf8)) } else { print(text, terminator: "") }
                // What was learned, on stderr (stdout may be the policy itself).
                let calls = learner.counts.values.reduce(0, +)
                let unresolved = learner.unresolved.isEmpty ? "" : ", \(learner.unresolved.count) unknown names left out"
                PolicyReport.printError("learned \(learner.names.count) syscalls from \(calls) calls in \(learner.recordings) recording(s)\(unresolved)\(output.map { ": \($0)" } ?? "")")
                if let diff {
                    let old = try SyscallLearner.allowedNames(in: try PolicySource.read(path: diff), arch: a)
                    let lines = SyscallLearner.diff(old: old, new: Set(learner.names))
                    // With -o the diff is the only output; otherwise keep stdout a clean policy.
                    for l in lines { if output != nil { print(l) } else { PolicyReport.printError(l) } }
                }
            } catch {
                PolicyReport.printError(error.description)
                throw ExitCode(ExitStatus.failure)
            }
        }
    }
}

extension RecordingFormat: ExpressibleByArgument {}
