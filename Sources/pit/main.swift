// `pit run` and `pit supervise` are parsed by small parsers of their own: `run` is the launch path, where
// swift-argument-parser's reflection-based setup costs more than the jail itself (see Tests/Benchmarks/launch.sh),
// and `supervise` lives for the life of the box, where that setup would cost ~2 MB of resident memory
// (Tests/Benchmarks/supervise.sh). Every other subcommand goes through swift-argument-parser.
let arguments = CommandLine.arguments
if arguments.count > 1 && arguments[1] == "run" {
    RunCommand.main(Array(arguments.dropFirst(2)))
}
if arguments.count > 1 && arguments[1] == "supervise" {
    SuperviseMain.main(Array(arguments.dropFirst(2)))
}
Pit.main()
