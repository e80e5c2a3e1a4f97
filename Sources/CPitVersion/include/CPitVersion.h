#ifndef CPIT_VERSION_H
#define CPIT_VERSION_H

/// Pit's version, fixed at build time from Package.swift (the release number and the git commit it was built
/// from). Only version.c sees the macro, so a new commit recompiles one file, not every module.
const char *pit_version(void);

#endif
