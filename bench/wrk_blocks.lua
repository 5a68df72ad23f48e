-- wrk script for bench/erisd_vs_nginx.sh: every request GETs a block
-- chosen at random from a list of request paths, one a line
-- ("/uri-res/N2R?urn:blake2b:REF"). Usage:
--   wrk ... -s bench/wrk_blocks.lua http://127.0.0.1:PORT -- PATHS_FILE
local paths = {}

function init(args)
  local file = args[1]
  if file == nil then
    error("wrk_blocks.lua: give the paths file after --")
  end
  for line in io.lines(file) do
    if #line > 0 then
      paths[#paths + 1] = line
    end
  end
  if #paths == 0 then
    error("wrk_blocks.lua: no paths in " .. file)
  end
  -- Each wrk thread runs init in its own Lua state: seed them apart.
  math.randomseed(os.time() + tonumber(tostring(paths):match("0x(%x+)") or "0", 16))
end

function request()
  return wrk.format("GET", paths[math.random(#paths)])
end
