#!/bin/sh
# Demo handler for the built-in `exec` plugin: "sends" the email in the payload (stdin) by
# appending it to sent-mail.log. exit 0 = delivered; 65 = permanent failure; else = retry.
payload=$(cat)
case "$payload" in
  *'"to"'*) ;;
  *) echo "payload has no \"to\" field" >&2; exit 65 ;;
esac
printf '%s tenant=%s message=%s attempt=%s %s\n' "$(date +%H:%M:%S)" "$OUTBOX_TENANT" \
  "$OUTBOX_MESSAGE_ID" "$OUTBOX_ATTEMPT" "$payload" >> "${SENT_MAIL_LOG:?}"
