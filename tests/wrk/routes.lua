-- wrk's script for `bench wrk`: every request as one of many users, spread over their carts.
--
--   wrk -s tests/wrk/routes.lua http://127.0.0.1:PORT -- USERS_FILE add|noop
--
-- USERS_FILE has one line per user: "<token> <cartId> <cartId> ...". `add` posts one unit of a
-- demo item to the next cart in turn (each user's carts taken in turn, and each cart's items),
-- so carts grow slowly, as people fill them; `noop` gets the empty route as the same users.
-- wrk runs LuaJIT (Lua 5.1). `done` prints one line for the bench to read, with microseconds.

local users = {}
local mode = "add"
local items = { "apple", "banana", "bread", "butter", "cheese", "coffee", "eggs", "milk",
  "olive-oil", "pasta", "tomatoes" }
local sent = 0

function init(args)
  mode = args[2] or "add"
  for line in io.lines(args[1]) do
    local fields = {}
    for field in line:gmatch("%S+") do fields[#fields + 1] = field end
    users[#users + 1] = { token = fields[1], carts = { unpack(fields, 2) } }
  end
end

function request()
  sent = sent + 1
  local user = users[(sent % #users) + 1]
  local headers = { ["Authorization"] = "Bearer " .. user.token }
  if mode == "noop" then
    return wrk.format("GET", "/dev/noop", headers)
  end
  local turn = math.floor(sent / #users)
  local cart = user.carts[(turn % #user.carts) + 1]
  local item = items[(math.floor(turn / #user.carts) % #items) + 1]
  headers["Content-Type"] = "application/json"
  return wrk.format("POST", "/carts/" .. cart .. "/items", headers,
    '{"itemId":"' .. item .. '","quantity":1}')
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    "wrk-result requests=%d duration_us=%d failed=%d p50_us=%d p99_us=%d p999_us=%d max_us=%d\n",
    summary.requests, summary.duration,
    errors.connect + errors.read + errors.write + errors.status + errors.timeout,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max))
end
