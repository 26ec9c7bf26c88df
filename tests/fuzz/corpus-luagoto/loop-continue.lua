local hs = {}
for i, c in ipairs(obj.status.conditions or {}) do
  if c.type ~= "Ready" then
    goto continue
  end
  if c.status == "False" then
    hs.status = "Degraded"
    hs.message = c.message
    return hs
  end
  ::continue::
end
hs.status = "Healthy"
return hs
