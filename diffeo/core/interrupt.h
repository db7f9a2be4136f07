#pragma once
// Turning Ctrl-C (SIGINT) and SIGTERM into a request that long loops poll.

namespace diffeo {

/// While an InterruptGuard is alive, SIGINT and SIGTERM no longer kill the
/// process: they set a flag that long loops (train::fit) poll between steps,
/// so they can save a checkpoint and stop cleanly.  The handler is one-shot
/// (SA_RESETHAND): a second signal kills the process as usual, so a stuck
/// program can still be stopped.  Construction clears the flag; destruction
/// restores the previous handlers.  Guards do not nest: the outermost one wins.
class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

  /// The signal received while a guard was alive (SIGINT or SIGTERM), or 0.
  static int received();

 private:
  bool installed_ = false;
};

}  // namespace diffeo
