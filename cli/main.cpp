// The `diffeo` command line.  Errors become one line on stderr:
// exit 2 for usage errors, 1 for runtime errors; nothing else is printed.
// A training run stopped by SIGINT/SIGTERM saves a checkpoint and exits
// 128 + signal (130 / 143), as a shell reports a process killed by it.

#include <malloc.h>
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <string>

#include "checkpointing.h"
#include "commands.h"
#include "common.h"
#include "diffeo/core/error.h"
#include "diffeo/core/version.h"

namespace {

// The one-line rule holds for any message: a multi-line one (LibTorch's often
// are) is joined into one line.
std::string one_line(const std::string& message) {
  std::string line;
  bool space = false;
  for (char c : message) {
    if (c == '\n' || c == '\r' || c == '\t') {
      space = !line.empty();
      continue;
    }
    if (space) line += ' ';
    space = false;
    line += c;
  }
  return line;
}

// A command-line error, prefixed with the subcommand (empty: none).  CLI11
// says "Could not convert: --steps = abc"; this says what the option expects.
std::string parse_error_message(const CLI::App& app, const std::string& command,
                                const CLI::ParseError& e) {
  std::string message = one_line(e.what());
  const std::string prefix = "Could not convert: ";
  const size_t equals = message.find(" = ");
  if (dynamic_cast<const CLI::ConversionError*>(&e) && message.rfind(prefix, 0) == 0 &&
      equals != std::string::npos) {
    const std::string name = message.substr(prefix.size(), equals - prefix.size());
    const CLI::App* scope = command.empty() ? &app : app.get_subcommand(command);
    const CLI::Option* option = scope->get_option_no_throw(name);
    const std::string type = option ? option->get_type_name() : "";
    const std::string expected = type == "INT"     ? "an integer"
                                 : type == "UINT"  ? "a non-negative integer"
                                 : type == "FLOAT" ? "a number"
                                 : type.empty()    ? "another value"
                                                   : type;
    message = name + " expects " + expected + ", got '" + message.substr(equals + 3) + "'";
  }
  return command.empty() ? message : command + ": " + message;
}

// "rank 1: " in a data-parallel worker (its launcher set WORLD_SIZE and
// RANK), so that interleaved messages say whose they are; "" otherwise.
std::string rank_prefix() {
  const char* world = std::getenv("WORLD_SIZE");
  const char* rank = std::getenv("RANK");
  return world && rank ? std::string("rank ") + rank + ": " : std::string();
}

}  // namespace

int main(int argc, char** argv) {
  diffeo::cli::set_command_line(argc, argv);
  CLI::App app{"diffeo: normalizing flows in C++ on LibTorch", "diffeo"};
  app.set_version_flag("--version", diffeo::version());
  app.require_subcommand(1);
  diffeo::cli::add_train_command(app);
  diffeo::cli::add_sample_command(app);
  diffeo::cli::add_eval_command(app);
  diffeo::cli::add_plot_command(app);
  diffeo::cli::add_gallery_command(app);
  diffeo::cli::add_densities_command(app);
  diffeo::cli::add_info_command(app);

  // glibc hands large freed buffers back to the kernel, so every sampling or
  // evaluation chunk would page-fault its ~25 MB temporaries in again; keep
  // them in the heap instead.
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);

  // CLI11 would only say "a subcommand is required"; name the unknown word.
  if (argc > 1 && argv[1][0] != '-') {
    std::string names;
    bool known = false;
    for (const auto* command : app.get_subcommands({})) {
      names += (names.empty() ? "" : ", ") + command->get_name();
      known = known || command->get_name() == argv[1];
    }
    if (!known) {
      std::cerr << "diffeo: error: unknown command '" << argv[1] << "' (commands: " << names
                << "; see 'diffeo --help')\n";
      return 2;
    }
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // The subcommand was checked above, so argv[1] names it when it is not an option.
    const std::string command = argc > 1 && argv[1][0] != '-' ? argv[1] : "";
    std::cerr << "diffeo: error: " << parse_error_message(app, command, e) << " (see 'diffeo "
              << (command.empty() ? "" : command + " ") << "--help')\n";
    return 2;
  } catch (const diffeo::cli::Interrupted& e) {
    // Empty from data-parallel workers but rank 0, and from their launcher.
    if (*e.what() != '\0') std::cerr << "diffeo: " << e.what() << "\n";
    return 128 + e.signal();
  } catch (const diffeo::cli::UsageError& e) {
    std::cerr << "diffeo: error: " << one_line(e.what()) << " (see 'diffeo " << e.command()
              << " --help')\n";
    return 2;
  } catch (const diffeo::Error& e) {
    std::cerr << "diffeo: error: " << rank_prefix() << one_line(e.what()) << "\n";
    return 1;
  } catch (const c10::Error& e) {
    std::cerr << "diffeo: error: " << rank_prefix() << one_line(e.what_without_backtrace()) << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "diffeo: error: " << rank_prefix() << one_line(e.what()) << "\n";
    return 1;
  } catch (...) {
    std::cerr << "diffeo: error: an unexpected failure (not a std::exception); please report it\n";
    return 1;
  }
  return 0;
}
