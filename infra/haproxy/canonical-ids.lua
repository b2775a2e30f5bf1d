-- The front HAProxy's canonical form of a bulk read's ids list (lua.canonical_ids in front.cfg.tmpl):
-- percent-encoded commas decoded and every id that repeats an earlier one removed, keeping the order of
-- first appearance (the order of the answer, so it stays). The service answers both forms the same, so
-- the list that reaches Varnish, and so its cache key, is one per answer. Any other parameter, or an ids
-- value that is not a list of digits (the service answers it 400), is left as it is.

local function canonical_list(value)
  value = value:gsub("%%2[Cc]", ",")
  if not value:find("^[0-9,]*$") then
    return nil
  end
  local seen, out = {}, {}
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
  local changed = false
  local params = {}
  for param in (query .. "&"):gmatch("([^&]*)&") do
    if param:sub(1, 4) == "ids=" then
      local list = canonical_list(param:sub(5))
      if list ~= nil and list ~= param:sub(5) then
        param = "ids=" .. list
        changed = true
      end
    end
    params[#params + 1] = param
  end
  if not changed then
    return query
  end
  return table.concat(params, "&")
end)
