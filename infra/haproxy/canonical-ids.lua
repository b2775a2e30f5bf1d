-- The front HAProxy's canonical form of a bulk read's ids list (lua.canonical_ids in front.cfg.tmpl):
-- percent-encoded commas decoded and every id that repeats an earlier one removed, keeping the order of
-- first appearance (the order of the answer, so it stays). The service answers both forms the same, so
-- the list that reaches Varnish, and so its cache key, is one per answer. Any other parameter, or an ids
-- value that is not a list of digits (the service answers it 400), is left as it is. Linear in the list;
-- a list without repeats or %2C (the usual one) is returned as it came, without building a new string.

local function canonical_list(value)
  if value:find("%", 1, true) then
    value = value:gsub("%%2[Cc]", ",")
  end
  if value:find("[^0-9,]") then
    return nil
  end
  local seen, repeated = {}, false
  for id in value:gmatch("[^,]+") do
    if seen[id] then
      repeated = true
      break
    end
    seen[id] = true
  end
  if not repeated then
    return value
  end
  seen = {}
  local out = {}
  for id in (value .. ","):gmatch("([^,]*),") do
    -- An empty item is kept as sent (the service answers it 400); only repeated ids go.
    if id == "" or not seen[id] then
      seen[id] = true
      out[#out + 1] = id
    end
  end
  return table.concat(out, ",")
end

core.register_converters("canonical_ids", function(query)
  local start, stop = query:find("^ids=")
  if not start then
    start, stop = query:find("&ids=", 1, true)
  end
  if not start then
    return query
  end
  local finish = query:find("&", stop + 1, true) or (#query + 1)
  local value = query:sub(stop + 1, finish - 1)
  local list = canonical_list(value)
  if list == nil or list == value then
    return query
  end
  return query:sub(1, stop) .. list .. query:sub(finish)
end)
