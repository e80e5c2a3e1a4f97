import CPitVersion

/// Pit's version (`pit --version`, status, events, the syslog header): the release number, and for a build
/// that is not the release's tag, the commit it was built from.
public let pitVersion = String(cString: pit_version())
