#!/usr/bin/env bash
# Mutation check of the walls (issue 25): each small edit below removes one defence from a scratch copy of the
# committed tree; the copy is rebuilt and the tests that cover that wall run against it. A killed mutation (some
# test failed) shows the wall is watched; a survivor names a wall no test sees fall. Not part of CI: each edit is
# a rebuild (about a minute incremental here) plus its tests.
#   bash Tests/Mutation/mutate.sh            # every mutation, table at the end
#   bash Tests/Mutation/mutate.sh NAME...    # only these
#   bash Tests/Mutation/mutate.sh --list
# The scratch copy is a detached worktree of HEAD under ${MUTATION_DIR:-/var/tmp/pit-mutation}; its build
# directory is kept between runs so only the first build is cold. The working tree here is never touched.
set -euo pipefail
cd "$(dirname "$0")/../.."
# name ;; file ;; exact text to replace (one occurrence) ;; replacement ;; swift test --filter of the covering tests
table=$(cat <<'TABLE'
chroot-writable ;; Sources/PitJail/Mounts.swift ;; UInt64(MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV), n2: 1, ;; UInt64(MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV), n2: 1, ;; WallTests|EscapeTests
no-setsid ;; Sources/PitJail/Contain.swift ;;     Session.detach(&program)  ;;     // Session.detach(&program)  ;; WallTests|RunLifecycleTests
tmpfs-root-writable ;; Sources/PitJail/Mounts.swift ;; n1: UInt64(MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV), ;; n1: UInt64(MS_REMOUNT | MS_NOSUID | MS_NODEV), ;; WallTests|RunIsolationTests
ro-bind-without-nosuid-nodev ;; Sources/PitJail/Mounts.swift ;; : MS_RDONLY | MS_NOSUID | MS_NODEV ;; : MS_RDONLY ;; WallTests|EscapeTests|RunIsolationTests
no-no-new-privs ;; Sources/PitJail/Contain.swift ;;     Privileges.forbidNewPrivileges(&program) ;;     // Privileges.forbidNewPrivileges(&program) ;; RunIsolationTests|EscapeTests
bounding-set-kept ;; Sources/PitJail/Credentials.swift ;; PIT_OP_DROP_BOUNDING, n1: keep, ;; PIT_OP_DROP_BOUNDING, n1: UInt64.max, ;; RunIsolationTests|EscapeTests
fds-inherited ;; Sources/PitJail/Contain.swift ;;     Descriptors.closeAllOnExec(&program)  ;;     // Descriptors.closeAllOnExec(&program)  ;; RunIsolationTests|EscapeSuiteTests
no-seccomp-load ;; Sources/PitJail/Contain.swift ;;     loadPolicy(policy, &program)  ;;     // loadPolicy(policy, &program)  ;; SeccompRunTests|HardeningTests
no-rlimits ;; Sources/PitJail/Contain.swift ;;     spec.limits.applyRlimits(&program)  ;;     // spec.limits.applyRlimits(&program)  ;; RunIsolationTests
no-pids-limit ;; Sources/PitJail/Cgroups.swift ;; return [("pids.max", String(limits.pidsMax!), false)] ;; return [] ;; RunLifecycleTests|RunIsolationTests
no-proc-guard ;; Sources/PitJail/Mounts.swift ;;         guardProc(in: rootFD, &program) ;;         // guardProc(in: rootFD, &program) ;; HardeningTests|EscapeTests
no-nested-namespace-rule ;; Sources/PitPolicy/Compile.swift ;;         if refuseNamespaces { ;;         if false { ;; HardeningTests
no-terminal-rule ;; Sources/PitPolicy/Compile.swift ;;     public static let terminalRequests: [UInt64] = [0x5412 /* TIOCSTI */, 0x541C /* TIOCLINUX */, 0x540A /* TCXONC */, ;;     public static let terminalRequests: [UInt64] = [0x5412 /* TIOCSTI */, 0x541C /* TIOCLINUX */, ;; WallTests
no-landlock ;; Sources/PitJail/Contain.swift ;;     spec.landlock?.apply(&program)  ;;     // spec.landlock?.apply(&program)  ;; HardeningTests|SambaJailTests
jail-shares-pit-memory ;; Sources/PitJail/Launcher.swift ;; ownMemory: spec.limits.memoryMax != nil) ;; ownMemory: false) ;; HardeningTests
cache-without-compiler-identity ;; Sources/PitJail/PolicyCache.swift ;;         let parts = [format, compilerIdentity, arch.name, source.file, source.text] ;;         let parts = [format, arch.name, source.file, source.text] ;; PolicyCacheTests
spool-no-fsync-on-append ;; Sources/PitUplink/Spool.swift ;;             try FileIO.fsync(activeFD, path: segments[active].path) ;;             if false { try FileIO.fsync(activeFD, path: segments[active].path) } ;; DurabilityOrderTests|CrashTests|SpoolTests
spool-crc-unchecked ;; Sources/PitUplink/RecordFormat.swift ;;         if crc != get32(bytes, offset + 20) { return "bad record checksum" } ;;         _ = crc ;; RecoveryTests|SpoolReaderTests|CrashTests
cursor-not-durable ;; Sources/PitUplink/Cursors.swift ;;         try FileIO.atomicWrite(Array("\(seq)\n".utf8), to: path, directory: directory, operation: "commit") ;;         _ = path ;; SpoolTests|TransportCrashTests
data-dir-health-always-passes ;; Sources/PitSupervisor/WatchdogFeeder.swift ;; dataDirectoryWritable: Self.dataDirectoryWritable(dataDirectory)) ;; dataDirectoryWritable: true) ;; SupervisorTests|HealthGateTests
feed-gate-open ;; Sources/PitSupervisor/WatchdogFeeder.swift ;;         guard decision.feed else { ;;         guard decision.feed || true else { ;; SupervisorTests|HealthGateTests
loop-latency-ignored ;; Sources/PitBoard/Health.swift ;;         if sample.eventLoopLatencyMilliseconds > maxEventLoopLatencyMilliseconds { ;;         if false && sample.eventLoopLatencyMilliseconds > maxEventLoopLatencyMilliseconds { ;; SupervisorTests|HealthGateTests
violations-unlimited ;; Sources/PitSupervisor/JailSet.swift ;;         guard limiter.admit(jail: slot.config.name, syscall: violation.syscall, now: now) else { return } ;;         _ = limiter ;; SupervisorTests|ViolationLimiterTests
violations-evict-alerts ;; Sources/PitUplink/Eviction.swift ;;         while !forViolation && i < segments.count && !fits(needed) { ;;         while i < segments.count && !fits(needed) { ;; EvictionTests|DiskFullTests
spool-damage-truncates ;; Sources/PitUplink/RecordFormat.swift ;;                 guard let next = nextRecord(in: bytes, after: offset) else { ;;                 guard let next = Optional<Int>.none else { ;; RecoveryTests
TABLE
)
table=$(sed 's/ ;; /\t/g' <<<"$table")
if [ "${1:-}" = "--list" ]; then cut -f1 <<<"$table"; exit 0; fi
wanted=("$@")
scratch=${MUTATION_DIR:-/var/tmp/pit-mutation}
head=$(git rev-parse HEAD)
if [ ! -d "$scratch/.git" ] && [ ! -f "$scratch/.git" ]; then
  git worktree add --detach "$scratch" "$head" >/dev/null
else
  git -C "$scratch" checkout -q --detach "$head" && git -C "$scratch" checkout -q -- .
fi
echo "mutation: scratch $scratch at $(git -C "$scratch" rev-parse --short HEAD); baseline build" >&2
(cd "$scratch" && swift build --build-tests >/dev/null)
results=()
while IFS=$'\t' read -r name file from to filters; do
  [ -n "$name" ] || continue
  if [ ${#wanted[@]} -gt 0 ] && ! printf '%s\n' "${wanted[@]}" | grep -qx "$name"; then continue; fi
  target="$scratch/$file"
  if ! FROM="$from" TO="$to" perl -0pi -e 'BEGIN { $n = 0 } $n += s/\Q$ENV{FROM}\E/$ENV{TO}/; END { exit($n == 1 ? 0 : 3) }' "$target"; then
    git -C "$scratch" checkout -q -- "$file"
    results+=("$name\tnot applied (the text moved: update the table)\t-"); continue
  fi
  echo "mutation: $name" >&2
  verdict="survived"
  if ! (cd "$scratch" && swift build --build-tests >/dev/null 2>&1); then
    verdict="killed (does not build)"
  else
    out=$(cd "$scratch" && swift test --skip-build --filter "$filters" 2>&1 || true)
    failed=$(grep -cE "error: |Test .* failed" <<<"$out" || true)
    if [ "$failed" -gt 0 ]; then
      names=$( (grep -oE "error: [A-Za-z]+\.[A-Za-z_0-9]+" <<<"$out" || true) | sed 's/error: //' | sort -u | tr '\n' ' ' | cut -c1-160)
      verdict="killed (${names% })"
    fi
  fi
  git -C "$scratch" checkout -q -- "$file"
  results+=("$name\t$verdict\t$filters")
done <<<"$table"
(cd "$scratch" && swift build --build-tests >/dev/null 2>&1) || true   # leave the scratch build at HEAD
printf '\n| mutation | result | tests run |\n|---|---|---|\n'
for r in "${results[@]}"; do IFS=$'\t' read -r a b c <<<"$(printf '%b' "$r")"; printf '| %s | %s | %s |\n' "$a" "$b" "${c//|/, }"; done
