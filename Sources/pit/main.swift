// `pit run` is parsed by a small table-driven parser of its own: it is the launch path, and
// swift-argument-parser's reflection-based setup costs more than the jail itself (see bench/launch).
// Every other subcommand goes through swift-argument-parser.
let arguments = CommandLine.arguments
if arguments.count > 1 && arguments[1] == "run" {
    RunCommand.main(Array(arguments.dropFirst(2)))
}
Pit.main()
