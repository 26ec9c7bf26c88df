-- A ServiceMonitor that scrapes nothing is not doing its job.
local hs = {}
if obj.spec.endpoints == nil or #obj.spec.endpoints == 0 then
  hs.status = "Degraded"
  hs.message = "no endpoints to scrape"
  return hs
end
hs.status = "Healthy"
return hs
