// The supervisor of several SIP workers (sip.workers > 1; issue 7, cores). It owns no
// socket and no thread: it starts each worker as `switchboard --config FILE --worker I`,
// forwards SIGHUP (reload) and SIGTERM/SIGINT (drain) to them, restarts a worker that dies
// while the service runs (at most 5 times a minute, then it stops the others and fails),
// and exits 0 once every worker has exited 0 after a stop.
#pragma once

#include <string>

namespace sb::app {

int superviseWorkers(const std::string& self, const std::string& config_path, unsigned workers);

}  // namespace sb::app
