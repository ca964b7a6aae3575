-- wrk script: POSTs pre-signed deliveries, each with its own webhookId, in turn.
--
-- The file (DELIVERIES env var, default bench/deliveries.txt) holds one delivery per line:
-- "<hex signature> <compact JSON body>", as written by `bench_server dump`. Requests are
-- formatted once at start-up so the script costs wrk nothing per request.

-- WEBHOOK_PATH: where to POST (default the receivers' path; bench/lambda.sh uses the emulator's
-- Function URL path).
local path = os.getenv("WEBHOOK_PATH") or "/webhooks/thequickassist"
local requests = {}
local count = 0
local next_index = 1
local threads = 0

-- Runs in the main Lua state, once per wrk thread: give each thread its own start offset.
function setup(thread)
  thread:set("offset", threads)
  threads = threads + 1
end

function init(args)
  local file = os.getenv("DELIVERIES") or "bench/deliveries.txt"
  for line in io.lines(file) do
    local signature, body = line:match("^(%x+) (.+)$")
    if signature then
      count = count + 1
      requests[count] = wrk.format("POST", path, {
        ["Content-Type"] = "application/json",
        ["X-Webhook-Signature"] = signature,
      }, body)
    end
  end
  if count == 0 then
    error("no deliveries in " .. file)
  end
  -- Each wrk thread starts at its own offset, so threads do not send the same ids; START
  -- (a line number) moves them all, so that a warm-up run sends other ids than the run
  -- that follows it.
  local start = tonumber(os.getenv("START") or "0")
  next_index = (start + math.floor(count / 16) * (offset or 0)) % count + 1
end

function request()
  local r = requests[next_index]
  next_index = next_index + 1
  if next_index > count then
    next_index = 1
  end
  return r
end
