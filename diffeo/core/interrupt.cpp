#include "diffeo/core/interrupt.h"

#include <atomic>
#include <csignal>

namespace diffeo {

namespace {

volatile std::sig_atomic_t received_signal = 0;
std::atomic<bool> guard_alive{false};
struct sigaction previous_int, previous_term;

extern "C" void record_signal(int signal) { received_signal = signal; }

}  // namespace

InterruptGuard::InterruptGuard() {
  if (guard_alive.exchange(true)) return;  // an outer guard already listens
  installed_ = true;
  received_signal = 0;
  struct sigaction action {};
  action.sa_handler = record_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESETHAND | SA_RESTART;
  sigaction(SIGINT, &action, &previous_int);
  sigaction(SIGTERM, &action, &previous_term);
}

InterruptGuard::~InterruptGuard() {
  if (!installed_) return;
  sigaction(SIGINT, &previous_int, nullptr);
  sigaction(SIGTERM, &previous_term, nullptr);
  guard_alive = false;
}

int InterruptGuard::received() { return received_signal; }

}  // namespace diffeo
