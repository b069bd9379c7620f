#!/usr/bin/env bats
# Bypass family: interpreters.  python3, perl and node open the file
# themselves, by whatever spelling: the open is supervised, so they meet the
# same verdict and the same chain.

bats_require_minimum_version 1.5.0
load corpus

setup() { corpus_setup; }
teardown() { corpus_teardown; }

@test "corpus interpreters: python3, perl and node reading a denied secret join its chain" {
	turn 'cat ~/.aws/credentials' 1
	turn "/usr/bin/python3 -c 'import os,sys; sys.stdout.write(open(os.path.expanduser(\"~/.aws/credentials\")).read()[::-1])'" 1
	turn "perl -e 'open(my \$f, \"<\", \"\$ENV{HOME}/.aws/credentials\") or die \"no: \$!\"; print scalar reverse <\$f>'" 13
	turn "node -e 'process.stdout.write(require(\"fs\").readFileSync(process.env.HOME + \"/.aws/credentials\", \"utf8\"))'" 126
	assert_no_canary
	assert_chain "$SECRET" 4 pending deny,deny,deny,escalate
	assert_receipted
}
