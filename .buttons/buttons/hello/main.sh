#!/bin/sh
# Arguments arrive as environment variables: --arg name=World -> $BUTTONS_ARG_NAME.
echo "Hello, ${BUTTONS_ARG_NAME:-World}!"
