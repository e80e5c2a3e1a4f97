import ArgumentParser

/// Subcommands other than `run`, registered in one place.
let extraSubcommands: [ParsableCommand.Type] = [PolicyCommand.self, JailCommand.self, UplinkAgentCommand.self, UplinkCommand.self, ConsoleDNSCommand.self, Supervise.self, Events.self, Status.self, Logs.self, Restart.self, Stop.self, Start.self, ClearSafeMode.self]
