#!/usr/bin/env bats
# Bypass family: secrets in the caller's environment.  A variable the
# profile marks secret is withheld from the command and its value redacted,
# so no way of reading the environment - env, /proc/self/environ, an
# interpreter - and no transformation gets it out.  Found 2026-12-07: the
# default profile knew *_TOKEN, *_KEY, *PASSWORD*, AWS_* and the like but
# not the other usual carriers of credentials - DATABASE_URL
# (postgres://user:password@...), SENTRY_DSN, SLACK_WEBHOOK_URL, MYSQL_PWD,
# GPG_PASSPHRASE, REDIS_URL, GITHUB_PAT, CI_JOB_JWT_V2 (GitLab's OIDC
# token), DOCKER_AUTH_CONFIG (registry credentials) - and `env | rev`
# printed them.
# Fixed: the default profile names them too (and see the last case: URLs).

bats_require_minimum_version 1.5.0
load corpus

setup() { corpus_setup; }
teardown() { corpus_teardown; }

# Run one turn with the secrets in the caller's environment.
eturn() {
	run env DEPLOY_TOKEN="$CANARY-t" AWS_SECRET_ACCESS_KEY="$CANARY-a" DB_PASSWORD="$CANARY-p" \
		DATABASE_URL="postgres://app:$CANARY-d@db.internal/app" SENTRY_DSN="https://$CANARY-s@o1.ingest.sentry.io/1" \
		SLACK_WEBHOOK_URL="https://hooks.slack.com/services/T0/B0/$CANARY-w" MYSQL_PWD="$CANARY-m" \
		GPG_PASSPHRASE="$CANARY-g" REDIS_URL="redis://:$CANARY-r@cache:6379" GITHUB_PAT="$CANARY-h" \
		CI_JOB_JWT_V2="$CANARY-j" DOCKER_AUTH_CONFIG="{\"auths\":{\"r\":{\"auth\":\"$CANARY-c\"}}}" \
		REGISTRY_BASIC_AUTH="$CANARY-b" \
		PLAIN_SETTING=visible-value AWS_REGION=eu-west-9 \
		"$STOCKADE" run --state-dir "$STATE" --session "$SESSION" -- sh -c "$1"
	ALL_OUT+="$output"$'\n'
}

@test "corpus env: secret variables are withheld however the environment is read, transformed or not" {
	eturn 'env | rev'
	eturn 'rev /proc/self/environ | tr "\0" "\n"'
	eturn '/usr/bin/python3 -c "import os; print({k: v[::-1] for k, v in os.environ.items()})"'
	eturn 'for v in DEPLOY_TOKEN DATABASE_URL SENTRY_DSN SLACK_WEBHOOK_URL MYSQL_PWD GPG_PASSPHRASE REDIS_URL GITHUB_PAT CI_JOB_JWT_V2 DOCKER_AUTH_CONFIG REGISTRY_BASIC_AUTH; do printenv $v; done | base64; printenv PLAIN_SETTING'
	assert_no_canary
	# Not everything is withheld: the environment still reaches the command.
	[[ "$ALL_OUT" == *"eulav-elbisiv"* ]]
	[[ "$ALL_OUT" == *"visible-value"* ]]
	# AWS settings that are no secret pass beside the withheld keys.
	[[ "$ALL_OUT" == *"9-tsew-ue=NOIGER_SWA"* ]]
}

# Found 2026-12-07 (session 11): a credential inside a URL in a variable
# with an ordinary name - a proxy's (HTTPS_PROXY=http://user:pass@proxy),
# a package index's (PIP_INDEX_URL=https://__token__:...@host/simple), a
# Go module proxy's - passed into the sandbox and `env | rev` printed it.
# Fixed: a variable the profile passes by its default (no rule names it)
# has the user information of its URLs taken out, as git's remote URLs do
# (docs/profiles.md); the URL stays, so does a variable a rule passes.
@test "corpus env: credentials inside URLs in ordinary variables do not get in" {
	run env HTTPS_PROXY="http://proxyuser:$CANARY-x@proxy.internal:3128" \
		http_proxy="http://$CANARY-y@proxy.internal:3128" \
		PIP_INDEX_URL="https://__token__:$CANARY-i@pypi.internal/simple" \
		GOPROXY="https://u:$CANARY-g@goproxy.internal,direct" \
		UPSTREAM="https://example.com/x" \
		"$STOCKADE" run --state-dir "$STATE" --session "$SESSION" -- sh -c 'env | rev; printenv HTTPS_PROXY PIP_INDEX_URL UPSTREAM'
	ALL_OUT+="$output"$'\n'
	echo "$output"
	[ "$status" -eq 0 ]
	assert_no_canary
	[[ "$output" == *"http://proxy.internal:3128"* ]]
	[[ "$output" == *"https://pypi.internal/simple"* ]]
	[[ "$output" == *"https://example.com/x"* ]]
}

# Found 2026-12-07 (session 12): connection strings that are no URLs
# (SQL Server's and .NET's `Server=...;Password=...`, an ODBC DSN string)
# and credentials under *_CREDS passed by the default and came out with
# `env | rev`; the redactor's `password=` rule catches only the plain form.
# Fixed: the default profile names *CONNECTION_STRING*, *CONN_STR*,
# *CONNSTR*, ConnectionStrings__* (.NET), *_CREDS and *_CREDS_* secret.
@test "corpus env: connection strings and *_CREDS are withheld" {
	run env SQL_CONNECTION_STRING="Server=db;User Id=app;Password=$CANARY-q;" \
		ConnectionStrings__Default="Server=db;Password=$CANARY-n" \
		ODBC_CONN_STR="DSN=x;PWD=$CANARY-o" DB_CONNSTR="host=db password=$CANARY-l" \
		GCP_CREDS="$CANARY-k" REGISTRY_CREDS_JSON="{\"p\":\"$CANARY-e\"}" \
		PLAIN_SETTING=visible-value \
		"$STOCKADE" run --state-dir "$STATE" --session "$SESSION" -- sh -c 'env | rev'
	ALL_OUT+="$output"$'\n'
	[ "$status" -eq 0 ]
	assert_no_canary
	[[ "$ALL_OUT" == *"eulav-elbisiv"* ]]
}
