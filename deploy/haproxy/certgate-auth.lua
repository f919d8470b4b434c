-- certgate forward-auth for HAProxy 2.5 and later, on the built-in core.httpclient only
-- (deploy/haproxy/forward-auth.cfg shows the frontend lines).
--   http-request lua.certgate-auth <certgate URL> <proxy secret>
--   http-request deny unless { var(txn.certgate_ok) -m bool }
-- The client certificate must already be in X-SSL-Client-Cert
-- (http-request set-header X-SSL-Client-Cert %[ssl_c_der,base64]).

-- core.httpclient gives each header's values as a table indexed from 0.
local function joined(values)
  local out, i = {}, 0
  while values and values[i] ~= nil do
    out[#out + 1] = values[i]
    i = i + 1
  end
  return table.concat(out, ", ")
end

core.register_action("certgate-auth", { "http-req" }, function(txn, url, secret)
  txn:set_var("txn.certgate_ok", false)
  local headers = {
    ["x-certgate-proxy-secret"] = { secret },
    ["x-forwarded-method"] = { txn.sf:method() },
    ["x-forwarded-uri"] = { txn.sf:pathq() },
    ["x-forwarded-host"] = { txn.sf:req_hdr("host") or "" },
    ["x-forwarded-proto"] = { txn.sf:ssl_fc() and "https" or "http" },
    ["x-forwarded-for"] = { txn.sf:src() },
  }
  local cert = txn.sf:req_hdr("x-ssl-client-cert")
  if cert and cert ~= "" then
    headers["x-ssl-client-cert"] = { cert }
  end

  local res = core.httpclient():get{ url = url, headers = headers, timeout = 2000 }
  local status = res and tonumber(res.status) or 0
  if status == 200 then
    for name, values in pairs(res.headers or {}) do
      if name:lower():find("^x%-certgate%-client%-") then
        txn.http:req_set_header(name, joined(values))
      end
    end
    txn:set_var("txn.certgate_ok", true)
    return
  end
  -- Refused, or certgate unreachable: answer now, with certgate's status and problem.
  local reply = txn:reply()
  if status >= 400 and status < 500 then
    reply:set_status(status)
    local content_type = res.headers and joined(res.headers["content-type"])
    if content_type and content_type ~= "" then
      reply:add_header("content-type", content_type)
    end
    reply:set_body(res.body or "")
  else
    reply:set_status(503)
  end
  txn:done(reply)
end, 2)
