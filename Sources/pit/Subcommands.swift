import ArgumentParser

/// Subcommands other than `run`, registered in one place.
let extraSubcommands: [ParsableCommand.Type] = []
