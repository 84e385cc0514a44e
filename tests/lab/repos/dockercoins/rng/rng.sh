#!/bin/sh
# CGI: answer with 32 random bytes, hex encoded.
printf 'Content-Type: text/plain\r\n\r\n'
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'
echo
