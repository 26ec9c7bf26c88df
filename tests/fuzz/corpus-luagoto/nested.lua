-- two labels, a long string and a comment that mention goto
local s = [[ goto nowhere ]]
while true do
  repeat
    if obj.spec == nil then goto done end
    --[[ goto in a comment ]]
    goto next
    ::next::
  until true
  break
end
::done::
return { status = "Progressing", message = s }
