/* Unit tests for the shipped redaction rules (profiles/redact.rules): for
 * every rule a realistic positive (replaced, under that rule's name, and
 * the secret gone) and a look-alike negative (left alone), then common
 * look-alikes of tool output that no rule may touch. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stockade/redact.h"

static const struct rule_case {
	const char *rule;
	const char *positive;
	const char *secret;     /* must not survive in the positive's output */
	const char *negative;   /* must come out unchanged */
} cases[] = {
	{ "openssh-private-key",
	  "key:\n-----BEGIN OPENSSH PRIVATE KEY-----\nu8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8dKLzdocJ2isAjIhKtJ0RlgLKOmxgJTeKdNn\nFRIBXuDL7DxtpYlSXpfKtHF4vUCsMehGAkWvj7FAc9QeWJKY40uvSwMFLZDe1f8rESQedU\nStPKR0CsTy4Qwb8DwkNhFdnXsiVpzz63FfkCzJr4i0B3JrTAwR4y9ojfljoQoaF1Llqsaj\nAIxNKu8iS2G8NPRVdD53X83RZJzzzzgEOzdmenCkhvMdgaKjIg8xNbe3nNyjOq9wMxEhh2\nFDEEtfjgVvVqE1SkHbn88HxjSI6bWHtP3fS2qHx6kwXoIIXGvOoNZYW2mZp0zVZomHFwUb\n-----END OPENSSH PRIVATE KEY-----\ndone",
	  "u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8dKLzdocJ2isAjIhKtJ0RlgLKOmxgJTeKdNn",
	  "ssh-keygen wrote /home/u/.ssh/id_ed25519 (OPENSSH PRIVATE KEY format)" },
	{ "pgp-private-key",
	  "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nbYrEqmSM9wCZ7Uw9xfogoEmvnEN5N1aE6PwZPf1Qh6yYTWmE4lBYOvfZ8UzDzV8f\nUkkibjL5DZPjN0MEQ7wjJJibaZUPgHV7iB3m03nbqnsGpWLuqIA1id6Vw5DQL05H\nA064GiIjHGb3CXlMaXZjljENUhJduRHHJEYXg4JdpmrcXgGCJbW56eCuNGMGmSrC\nGIZEG8pSH4487q7J58m1CiAhzCueQpBenQtYh5Xj8TPQxjq4i9DoV8gz4FkQ1okT\n-----END PGP PRIVATE KEY BLOCK-----\n",
	  "bYrEqmSM9wCZ7Uw9xfogoEmvnEN5N1aE6PwZPf1Qh6yYTWmE4lBYOvfZ8UzDzV8f",
	  "-----BEGIN PGP PUBLIC KEY BLOCK-----\nmQENBFBGzvAmwufUxbvJDCTbyvHNsG9eh6Yo4gfqrc5Xlr\n-----END PGP PUBLIC KEY BLOCK-----" },
	{ "pem-private-key",
	  "-----BEGIN RSA PRIVATE KEY-----\nMIIEowWi0B26R08qzjI6GKFSufrdZSlB5er8bOfZqfM2oeq3hDavJA76rNicHTp8\nhkqdlm7tOtHWnsCGRlrwZbqcabUGJmGEp7CgQ0PBQFI14zGtSnovm14TUOizwd1i\n-----END RSA PRIVATE KEY-----\n",
	  "hkqdlm7tOtHWnsCGRlrwZbqcabUGJmGEp7CgQ0PBQFI14zGtSnovm14TUOizwd1i",
	  "-----BEGIN CERTIFICATE-----\nMIIDdzaeOV4qBkdfQ1y3GQsMpSscDlkrCaqx9vJupc94tnwlavyfErGPmpGXafq0\n-----END CERTIFICATE-----" },
	{ "putty-private-key",
	  "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nPublic-Lines: 2\nfjzLczbttOofL9H2WjQ5TY4MyWuUFjsUNPjc01T5GOBUSZGi6HWGK10Zb0RLZ5TR\nPrivate-Lines: 1\n9SPofbciOx9gy1CJdObOIRpFqaDZeV7G5IfQHeVVEqZe\nPrivate-MAC: 8767efc2f91624a8940f1f836f99eee3692f09e2e8c662248b483b7ffc050fec\n",
	  "fjzLczbttOofL9H2WjQ5TY4MyWuUFjsUNPjc01T5GOBUSZGi6HWGK10Zb0RLZ5TR",
	  "PuTTY version 0.78 loaded key file" },
	{ "aws-access-key-id",
	  "aws_access_key_id = AKIATJ2WYUHVAUVZHMAS",
	  "TJ2WYUHVAUVZHMAS",
	  "id: AKIA-not-a-key and AKIASHORT" },
	{ "aws-secret-access-key",
	  "aws_secret_access_key = GViYXjU2JgJngKtFI3OyV2dZAkg05rK/gqv81RKM",
	  "GViYXjU2JgJngKtFI3OyV2dZAkg05rK/gqv81RKM",
	  "aws_secret_access_key = ${AWS_SECRET}" },
	{ "aws-session-token",
	  "AWS_SESSION_TOKEN=GHZEM9YpvujA=+C5Q52ryFlwRlOEVHzc0X0AWIRh+JUq=BlIFXZ53Ncqe28/ajY75FnCttn6kfaqDeMqG3omjMyXHCabM6JOF8EFd0Nhcy+1kGD2VD+eR1UYzaL=iA+zNyD7CHLn+xC/1hsYgBds1ghxY5OokvQyx7eNWVQ4vnakJkS1pAWTN3lg8zV5yPU8d0FZfWe7ihGyiRUIQfHOJMaidDn87XG3+q+xbMtEPO6UkzYuF0ie9Pu2njHkAm1+5wDr16EpLLJIVGHz4FxFEtKyPiYGF=Dm7ena8D5VfLDp",
	  "GHZEM9YpvujA=+C5Q52ryFlwRlOEVHzc0X0AWIRh+JUq=BlIFXZ53Ncqe28/ajY75FnCttn6kfaqDeMqG3omjMyXHCabM6JOF8EFd0Nhcy+1kGD2VD+eR1UYzaL=iA+zNyD7CHLn+xC/1hsYgBds1ghxY5OokvQyx7eNWVQ4vnakJkS1pAWTN3lg8zV5yPU8d0FZfWe7ihGyiRUIQfHOJMaidDn87XG3+q+xbMtEPO6UkzYuF0ie9Pu2njHkAm1+5wDr16EpLLJIVGHz4FxFEtKyPiYGF=Dm7ena8D5VfLDp",
	  "aws_session_token: <redacted>" },
	{ "google-api-key",
	  "key=AIzagyyjVw5HanSBeVRsfAGeAbP0VxNjAe-9i0m",
	  "gyyjVw5HanSBeVRsfAGeAbP0VxNjAe-9i0m",
	  "AIzaShort" },
	{ "google-oauth-secret",
	  "client_secret: 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",
	  "YtluYI0KN1gNT11cUzYZAa3u2olZ",
	  "GOCSPX-short" },
	{ "google-oauth-token",
	  "Authorization header ya29.U6uqbgsYlVvsSKuvinX_zMqf9OgXluCZz8xBfZuXTptFyfePpX6N1NF2XV54wca_7E56w8ZniqT3Ul4ffqkOkgWrdioyq_KvCiSGuPJ6sG9AHEOVezxZuJPW",
	  "U6uqbgsYlVvsSKuvinX_zMqf9OgXluCZz8xBfZuXTptFyfePpX6N1NF2XV54wca_7E56w8ZniqT3Ul4ffqkOkgWrdioyq_KvCiSGuPJ6sG9AHEOVezxZuJPW",
	  "ya29.short" },
	{ "gcp-private-key-id",
	  "{\"type\": \"service_account\", \"private_key_id\": \"5831be38cb8cb4ba2e751989a01749ddb14f7101\"}",
	  "5831be38cb8cb4ba2e751989a01749ddb14f7101",
	  "{\"private_key_id\": \"none\"}" },
	{ "azure-storage-key",
	  "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=aTMnTC0MrAU8urbFt5misIZHbhS4/FvafhdZxEuhnbzs0z1wNiMg9aW37k5wCnHDepQHgI3HLBkbvHEzuPyXQE==;EndpointSuffix=core.windows.net",
	  "aTMnTC0MrAU8urbFt5misIZHbhS4/FvafhdZxEuhnbzs0z1wNiMg9aW37k5wCnHDepQHgI3HLBkbvHEzuPyXQE",
	  "AccountKey=;AccountName=x" },
	{ "azure-sas-signature",
	  "https://acct.blob.core.windows.net/c?sv=2022-11-02&sp=r&sig=W88ad3DNBYjvsedonuSsddfrfifiUziXnFAAoeelK9m%3D",
	  "W88ad3DNBYjvsedonuSsddfrfifiUziXnFAAoeelK9m",
	  "https://example.com/?sig=short" },
	{ "digitalocean-token",
	  "DO token dop_v1_4369aad80b891baf90d0d3bf16295d06910bf3f5fb85967f532f3ab3cc2d0b69",
	  "4369aad80b891baf90d0d3bf16295d06910bf3f5fb85967f532f3ab3cc2d0b69",
	  "dop_v1_tooshort" },
	{ "heroku-api-key",
	  "HRKU-H2vWD6qeSPt5Pv74GDqQ7EyIMttFPSuEPyHnvnzXtsMM3JznnJAX7ebZ3CL7",
	  "H2vWD6qeSPt5Pv74GDqQ7EyIMttFPSuEPyHnvnzXtsMM3JznnJAX7ebZ3CL7",
	  "HRKU-short" },
	{ "databricks-token",
	  "token dapi048c07dd7753eda83d7c58dfe0d5a0cf",
	  "048c07dd7753eda83d7c58dfe0d5a0cf",
	  "dapi is an API" },
	{ "hashicorp-vault-token",
	  "VAULT_TOKEN is hvs.neGBuzSm6A8cVR06AxYpThGJWZhbj11THnCMZCY7Bvqiy8CsT07Lq8TDIWG2x9aJTFMP9_2kUtMXhkPrSbbAjLGmsD",
	  "neGBuzSm6A8cVR06AxYpThGJWZhbj11THnCMZCY7Bvqiy8CsT07Lq8TDIWG2x9aJTFMP9_2kUtMXhkPrSbbAjLGmsD",
	  "hvs.short" },
	{ "terraform-cloud-token",
	  "lXCwYjn5zYIkN5.atlasv1.lMz-Bk4opH1Dr8-h97s_F-vauP7-L7V21jxUdcfQm9_seB1qRmUR8AK3R2GgLLT-ZQI",
	  "lMz-Bk4opH1Dr8-h97s_F-vauP7-L7V21jxUdcfQm9_seB1qRmUR8AK3R2GgLLT-ZQI",
	  "app.atlasv1.example" },
	{ "doppler-token",
	  "dp.st.3GwnPFYhvmuTtiLOfYczUJ4zIKdztgacm06EMXQdYG6",
	  "3GwnPFYhvmuTtiLOfYczUJ4zIKdztgacm06EMXQdYG6",
	  "dp.st.x" },
	{ "pulumi-token",
	  "pul-c4261e5351d30b49895d1a0d1f13dce20c4fd32f",
	  "c4261e5351d30b49895d1a0d1f13dce20c4fd32f",
	  "pul-request" },
	{ "github-pat",
	  "remote: ghp_n5jOaBaaRQh92fn3hiEbrUKpCUVl7dxXVTS2",
	  "n5jOaBaaRQh92fn3hiEbrUKpCUVl7dxXVTS2",
	  "ghp_short and ghp_jUWfsOJTFDQ74q69dTca" },
	{ "github-fine-grained-pat",
	  "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",
	  "8KUCERkj9Zhx9PkOZAEyXYC8rYWKvsrdNPTZ0Mv3MUa1jM1tLB4pyyRyMX5",
	  "github_pat_short" },
	{ "github-oauth-token",
	  "gho_oZCsSauqrBkL60W4Ycs1jZ43Kjr2ZZJRX6Fw",
	  "oZCsSauqrBkL60W4Ycs1jZ43Kjr2ZZJRX6Fw",
	  "gho_IfIJFZymYW" },
	{ "github-user-token",
	  "ghu_U7otMdRzDTn7qLWaYyDIfIZwXeozLH5q41Hu",
	  "U7otMdRzDTn7qLWaYyDIfIZwXeozLH5q41Hu",
	  "ghu_x" },
	{ "github-app-token",
	  "ghs_EGLmmnmflZSsxKKwzXH2jpc7Fx3gxODYfjuM",
	  "EGLmmnmflZSsxKKwzXH2jpc7Fx3gxODYfjuM",
	  "ghs_x" },
	{ "github-refresh-token",
	  "ghr_bwrHMbgcn33KFLKnq7XrBg8CXL0M9iq1cvmlyfbdcJx3TDF8265e3MOz7hT9fquKoPf96QGzlC2k",
	  "bwrHMbgcn33KFLKnq7XrBg8CXL0M9iq1cvmlyfbdcJx3TDF8265e3MOz7hT9fquKoPf96QGzlC2k",
	  "ghr_x" },
	{ "gitlab-pat",
	  "glpat-VECweGThdgH9hmsOazM4",
	  "VECweGThdgH9hmsOazM4",
	  "glpat-short" },
	{ "gitlab-runner-token",
	  "glrt-n8PVGXpV9Wv4Esb7yeuC",
	  "n8PVGXpV9Wv4Esb7yeuC",
	  "glrt-x" },
	{ "gitlab-pipeline-token",
	  "glptt-2b4e3c02eaa7f3b4a715e4e48dd74089a58f3aef",
	  "2b4e3c02eaa7f3b4a715e4e48dd74089a58f3aef",
	  "glptt-x" },
	{ "gitlab-deploy-token",
	  "gldt-hjGdO5YQ7nJE1shqWmxB",
	  "hjGdO5YQ7nJE1shqWmxB",
	  "gldt-x" },
	{ "gitlab-other-token",
	  "glsoat-qp7pgysA5kd1UsjObCZG",
	  "qp7pgysA5kd1UsjObCZG",
	  "glsoat-x" },
	{ "npm-token",
	  "//registry.npmjs.org/ npm_vGiCaY18HslxBc6AnrKli1lHXoTlmMf1f4MU",
	  "vGiCaY18HslxBc6AnrKli1lHXoTlmMf1f4MU",
	  "npm_install" },
	{ "npmrc-auth-token",
	  "//registry.npmjs.org/:_authToken=FWrlniNQTOZmLtmaeSUHA1U6dHZwvs1O38Ff",
	  "FWrlniNQTOZmLtmaeSUHA1U6dHZwvs1O38Ff",
	  "//registry.npmjs.org/:_authToken=${NPM_TOKEN}" },
	{ "pypi-token",
	  "password = pypi-AgEIcHlwaS5vcmcb09rIFxUeuVaT5jpTFPWhLn-5drcFlCxvnNGdcmyHc7E4nSmwfIp7-JoppZrDDs7YvcX1e",
	  "b09rIFxUeuVaT5jpTFPWhLn-5drcFlCxvnNGdcmyHc7E4nSmwfIp7-JoppZrDDs7YvcX1e",
	  "pypi-install" },
	{ "rubygems-token",
	  "rubygems_c1bac7adac1a4b7d0b352ad6074dce1118813830d71939b5",
	  "c1bac7adac1a4b7d0b352ad6074dce1118813830d71939b5",
	  "rubygems_org" },
	{ "nuget-api-key",
	  "oy2hd6rf38j2h6is0srpf8s3oym9x39t44tbpvom68yzaw",
	  "hd6rf38j2h6is0srpf8s3oym9x39t44tbpvom68yzaw",
	  "oy2short" },
	{ "docker-hub-token",
	  "dckr_pat_uEPP_IKBLhcuiS4hX4TnCt1RTrz",
	  "uEPP_IKBLhcuiS4hX4TnCt1RTrz",
	  "dckr_pat_x" },
	{ "atlassian-api-token",
	  "ATATT3Jm8Iq0na0p=Yt1JoW56KTLTYXPa=W4MxMs3WDlQPFPA2bdgG=MN33X7TfS5biDm0V-Zty1_Z4RlvUOUjNwoLR1uLA-y0xhnTf0baNaMYmbdzw=Isz0psundmjv_73hbPsETJveImiSy5XcgCYf4gEFCfuwOa6M1G=iFXC0NZ_cFlwvTWxaLY",
	  "Jm8Iq0na0p=Yt1JoW56KTLTYXPa=W4MxMs3WDlQPFPA2bdgG=MN33X7TfS5biDm0V-Zty1_Z4RlvUOUjNwoLR1uLA-y0xhnTf0baNaMYmbdzw=Isz0psundmjv_73hbPsETJveImiSy5XcgCYf4gEFCfuwOa6M1G=iFXC0NZ_cFlwvTWxaLY",
	  "ATATT3x" },
	{ "postman-api-key",
	  "PMAK-b3acac23db7c6e9b7d180a47-42684ee75bb6cc69f67e48eb7c64328c04",
	  "42684ee75bb6cc69f67e48eb7c64328c04",
	  "PMAK-123" },
	{ "slack-bot-token",
	  "xoxb-40612353118-5843141342645-z26DXO4O33i7rlbxRZQSw5Ab",
	  "z26DXO4O33i7rlbxRZQSw5Ab",
	  "xoxb-123" },
	{ "slack-user-token",
	  "xoxp-73651241493-06092634260-8429397846950-3911731a6b2dc782bdeae16d4f618557",
	  "3911731a6b2dc782bdeae16d4f618557",
	  "xoxp-1-2" },
	{ "slack-app-token",
	  "xapp-1-A8QPDKWW0FM-4227733087254-447a3d54ec6390bf61189639e35aeeb95210ef2a83fdf6a0b29872400c49b553",
	  "447a3d54ec6390bf61189639e35aeeb95210ef2a83fdf6a0b29872400c49b553",
	  "xapp-1" },
	{ "slack-config-token",
	  "xoxe.xoxp-1-YU1tVNuylP0wuoxiJ6x11qpdcgKZO60Tz5d8nFBFUktMLOfjSokiCOzfc2CEmnUxac1N21YGBjseQdGTA4veCaQ90l5UkysaCZKRwKmEfIuHDBI6O3jz9MNfZZdURvMQtKKA8xEQPit3vH4Ob2moRV",
	  "YU1tVNuylP0wuoxiJ6x11qpdcgKZO60Tz5d8nFBFUktMLOfjSokiCOzfc2CEmnUxac1N21YGBjseQdGTA4veCaQ90l5UkysaCZKRwKmEfIuHDBI6O3jz9MNfZZdURvMQtKKA8xEQPit3vH4Ob2moRV",
	  "xoxe.x" },
	{ "slack-legacy-token",
	  "xoxs-CSfjQLxJL8AxHpKCzqhol94mJVho31qPgmHQqTFo",
	  "CSfjQLxJL8AxHpKCzqhol94mJVho31qPgmHQqTFo",
	  "xoxs-x" },
	{ "slack-webhook",
	  "https://hooks.slack.com/services/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",
	  "gD1RzIk99mKEXfixXNdzpdxc",
	  "https://hooks.slack.com/" },
	{ "discord-webhook",
	  "https://discord.com/api/webhooks/093741261939152550/GpEVT_fTmTPoeFGTy5c4oc_ojHxtLWsGI4bdRt_9eejxY8u5YDjUQBNqfBvU7Q7XTOaQ",
	  "GpEVT_fTmTPoeFGTy5c4oc_ojHxtLWsGI4bdRt_9eejxY8u5YDjUQBNqfBvU7Q7XTOaQ",
	  "https://discord.com/api/webhooks/" },
	{ "discord-bot-token",
	  "DISCORD_TOKEN=MLEvobpD4McOjUQjryreGqwK.KHL9iS.c6J5Xg3mXBOKOgxYsYYp3Y8jRet",
	  "c6J5Xg3mXBOKOgxYsYYp3Y8jRet",
	  "discord: M.x.y" },
	{ "telegram-bot-token",
	  "bot5583586505:AAP9VFEStrAa6Z5YMvisMNGRjykwMT7T2i_",
	  "P9VFEStrAa6Z5YMvisMNGRjykwMT7T2i_",
	  "12345678:AB" },
	{ "stripe-secret-key",
	  "sk_live_u5lr5qIbWkOrpTbndzCm5Ms3",
	  "u5lr5qIbWkOrpTbndzCm5Ms3",
	  "sk_live_" },
	{ "stripe-restricted-key",
	  "rk_live_GPgmpUd9iMdfeZ04KvUiamrI",
	  "GPgmpUd9iMdfeZ04KvUiamrI",
	  "rk_test_x" },
	{ "stripe-webhook-secret",
	  "whsec_P4aOu7bnuu3VbPFzNRZvld3AYcfONvXF",
	  "P4aOu7bnuu3VbPFzNRZvld3AYcfONvXF",
	  "whsec_" },
	{ "twilio-api-key",
	  "SKc8e00aa1da5204642bbdb4a78f19e8b8",
	  "c8e00aa1da5204642bbdb4a78f19e8b8",
	  "SKU-1234" },
	{ "sendgrid-api-key",
	  "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",
	  "SF4-BSX6BPdnbiZShDW0WCdGcH3EDTAP2JM-Bu9IrMK",
	  "SG.x.y" },
	{ "mailgun-api-key",
	  "MAILGUN_API_KEY=key-2a0f75ae616b1e5d490340494b35ec2d",
	  "2a0f75ae616b1e5d490340494b35ec2d",
	  "mailgun: key-short" },
	{ "mailchimp-api-key",
	  "aca1760147d301a233f4d05743bf2b67-us12",
	  "aca1760147d301a233f4d05743bf2b67",
	  "2850882161db80a1e9ad8cdadc4ccd40-eu1" },
	{ "shopify-token",
	  "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",
	  "78c763211caeae0ffac7cb2c8a2788fb",
	  "shpat_x" },
	{ "huggingface-token",
	  "hf_HLEKoje7WHxHnHk0xpRlj0QDlO8025P36c",
	  "HLEKoje7WHxHnHk0xpRlj0QDlO8025P36c",
	  "hf_hub" },
	{ "linear-api-key",
	  "lin_api_uyx130BhAjSqygxwQZHHtCQfrzsCShCOEUZlWHja",
	  "uyx130BhAjSqygxwQZHHtCQfrzsCShCOEUZlWHja",
	  "lin_api_x" },
	{ "grafana-service-token",
	  "glsa_RixFHQpNxHvZyqbJmaKqdLltTIr6uqpq_e2f264d9",
	  "RixFHQpNxHvZyqbJmaKqdLltTIr6uqpq",
	  "glsa_x" },
	{ "grafana-cloud-token",
	  "glc_Vf4WUfL03GTEXqyViAQjk5WY1/dn77318wi4Y+rb==",
	  "Vf4WUfL03GTEXqyViAQjk5WY1/dn77318wi4Y+rb",
	  "glc_x" },
	{ "newrelic-api-key",
	  "NRAK-OMZ8CS9VY3HFOEAG5FN3DMV4D90",
	  "OMZ8CS9VY3HFOEAG5FN3DMV4D90",
	  "NRAK-x" },
	{ "sentry-token",
	  "sntrys_r0gsPQyaxJHlOXGMY_1gNMFW3GNzqgAV7+sURz6gObi0PeJC4LzA6Z4AAhx3pgrj/xbv/CLBusAm7mzl",
	  "r0gsPQyaxJHlOXGMY_1gNMFW3GNzqgAV7+sURz6gObi0PeJC4LzA6Z4AAhx3pgrj/xbv/CLBusAm7mzl",
	  "sntrys_x" },
	{ "age-secret-key",
	  "AGE-SECRET-KEY-1R6WSUMFRGZ2UJW5FNS5DFWEZ5CFJW9VAFTM4E8ZK8DYJLKPL9VL3N9VG73",
	  "R6WSUMFRGZ2UJW5FNS5DFWEZ5CFJW9VAFTM4E8ZK8DYJLKPL9VL3N9VG73",
	  "AGE-SECRET-KEY-1 is the prefix" },
	{ "anthropic-api-key",
	  "ANTHROPIC_API_KEY: sk-ant-api03-DMemaSytMgwQS59FQUwoMi6mouY7eefm0q1TjVuUvlQa9MtHmnEot-IpP7FufGUzKZAqEEmbng_ADlvtHd2YoLpkBDFhFAA",
	  "DMemaSytMgwQS59FQUwoMi6mouY7eefm0q1TjVuUvlQa9MtHmnEot-IpP7FufGUzKZAqEEmbng_ADlvtHd2YoLpkBDFhF",
	  "sk-ant-api03-short" },
	{ "openai-api-key",
	  "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",
	  "eMvgcnNXSl0tvfZWDL6l",
	  "sk-learn is a library" },
	{ "openai-project-key",
	  "sk-proj-rAzCQia9e-QiizgU0lSu--rHMg7v3XMoiGDEz6E-gYYRWZlDR2NaM_co810M6sQBkTY7eLQlIx40EpBfWxXIQtUvCSYN-OyuYbawnF6GTmWrG1jQ4ILUNWh-",
	  "rAzCQia9e-QiizgU0lSu--rHMg7v3XMoiGDEz6E-gYYRWZlDR2NaM_co810M6sQBkTY7eLQlIx40EpBfWxXIQtUvCSYN-OyuYbawnF6GTmWrG1jQ4ILUNWh-",
	  "sk-proj-x" },
	{ "groq-api-key",
	  "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",
	  "FxSbd414RhJyCtWG5jUMVDc8uEia875rjmL6KGczlVLPrOWpsXIb",
	  "gsk_x" },
	{ "xai-api-key",
	  "xai-AJAPfZ8ROyF9TxS5ruk1KF0dYIw5imHZ4dktVHkRt6dLtyX9x9Slrt58EmNu7CzgRqxzuyY9Erhn76NC",
	  "AJAPfZ8ROyF9TxS5ruk1KF0dYIw5imHZ4dktVHkRt6dLtyX9x9Slrt58EmNu7CzgRqxzuyY9Erhn76NC",
	  "xai-x" },
	{ "replicate-api-token",
	  "r8_G1AOkX5ucjrWIEQJ2QAWerzxT6zHZs2OhqCXa",
	  "G1AOkX5ucjrWIEQJ2QAWerzxT6zHZs2OhqCXa",
	  "r8_x" },
	{ "jwt",
	  "token eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.fNTUHFim0oNvwpZYRZY-RSxs0KrBRi0iaE3ZBJqtCEp",
	  "fNTUHFim0oNvwpZYRZY-RSxs0KrBRi0iaE3ZBJqtCEp",
	  "eyJ is base64 for {\"" },
	{ "url-credentials",
	  "git clone https://user:5s5cV07Py4siPT4TyN5r@github.com/o/r.git",
	  "5s5cV07Py4siPT4TyN5r",
	  "https://github.com/o/r.git and mailto:user@example.com" },
	{ "authorization-header",
	  "Authorization: Basic dXNlcjoBVGVYTU0wR3JNbjVvAg==",
	  "",
	  "Authorization: required" },
	{ "bearer-token",
	  "curl -H 'X: Bearer NmUkUcjpPBa6r5J-h5ef7o9CLRQDBAKdCwd-I2Vi'",
	  "NmUkUcjpPBa6r5J-h5ef7o9CLRQDBAKdCwd-I2Vi",
	  "bearer of bad news" },
	{ "netrc-password",
	  "machine api.example.com login bob password 9OrUfLhzyG9LAoQ3",
	  "9OrUfLhzyG9LAoQ3",
	  "the machine learning login page asks for a password" },
	{ "netrc-password-line",
	  "machine api.example.com\n  login bob\n  password 9OrUfLhzyG9LAoQ3\n",
	  "9OrUfLhzyG9LAoQ3",
	  "Forgot your password? Reset it:\npassword reset sent to bob@example.com\n" },
	{ "password-assignment",
	  "DB_PASSWORD=4dZx9IvQqePEKiBD",
	  "4dZx9IvQqePEKiBD",
	  "password: ********" },
	{ "secret-assignment",
	  "GITHUB_TOKEN=e6a63c59620e66869002b6d08b5ab9315bd0e3a3",
	  "e6a63c59620e66869002b6d08b5ab9315bd0e3a3",
	  "max_tokens: 4096" },
	{ "api-key-assignment",
	  "{\"api_key\": \"2jxX4EFf6vYuE50i2gHKqGynwqQb86mT\"}",
	  "2jxX4EFf6vYuE50i2gHKqGynwqQb86mT",
	  "api_key_len = 32" },
};

/* Output of a tool that looks like a credential and is not one. */
static const char *const lookalikes[] = {
	"commit 3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39\nAuthor: A U Thor <a@example.com>\n",
	"Merge: 1a2b3c4 5d6e7f8\n    Fixes 9fceb02d0ae598e95dc970b74767f19372d61af8\n",
	"request id 123e4567-e89b-12d3-a456-426614174000 done\n",
	"{\"uuid\": \"f47ac10b-58cc-4372-a567-0e02b2c3d479\", \"id\": 42}\n",
	"sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\n",
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  empty.txt\n",
	"Digest: sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4\n",
	"integrity sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==\n",
	"md5sum: d41d8cd98f00b204e9800998ecf8427e\n",
	"src/main.c:42:13: warning: unused variable 'token' [-Wunused-variable]\n",
	"max_tokens: 4096\ntemperature: 0.7\n",
	"password: ********\npassword=\npassword = ${DB_PASSWORD}\n",
	"tokenizer_config.json saved\n",
	"export PATH=/usr/local/bin:/usr/bin:/bin\nHOME=/home/user\nSHELL=/bin/bash\n",
	"https://github.com/owner/repo/pull/1234#issuecomment-987654321\n",
	"docker image sha256:5d0da3dc976460b72c77d94c8a1ad043720b0416bfc16c52c45d4847e53fadb6 pulled\n",
	"Created wheel for pkg: filename=pkg-1.0-py3-none-any.whl size=1234 sha256=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n",
	"base64: SGVsbG8sIFdvcmxkIQ==\n",
	"go: downloading golang.org/x/sys v0.15.0\n",
	"-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUJ4N\n-----END CERTIFICATE-----\n",
	"-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n",
	"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl user@host\n",
};

static char cache_dir[] = "/tmp/stockade-test-rules-XXXXXX";

static sk_redactor *shipped(void)
{
	sk_redact_config cfg;
	sk_error err = { 0 };
	sk_redactor *r = NULL;
	sk_redact_config_init(&cfg);
	cfg.rules_path = "profiles/redact.rules";
	cfg.cache_dir = cache_dir;
	int e = sk_redactor_build(&cfg, &r, &err);
	ck_assert_msg(e == 0, "build: %s", err.msg);
	return r;
}

static char *redact(const sk_redactor *r, const char *in, uint64_t *counts)
{
	char *out = NULL;
	size_t len;
	ck_assert_int_eq(sk_redact_buffer(r, in, strlen(in), &out, &len, counts), 0);
	return out;
}

static size_t rule_index(const sk_redactor *r, const char *name)
{
	for (size_t i = 0; i < sk_redactor_rule_count(r); i++)
		if (!strcmp(sk_redactor_rule_name(r, i), name))
			return i;
	ck_abort_msg("no rule %s", name);
	return 0;
}

START_TEST(test_rule_positive)
{
	const struct rule_case *c = &cases[_i];
	sk_redactor *r = shipped();
	uint64_t *counts = calloc(sk_redactor_rule_count(r), sizeof(*counts));
	char *out = redact(r, c->positive, counts);
	char want[128];
	snprintf(want, sizeof(want), "[REDACTED:%s]", c->rule);
	ck_assert_msg(strstr(out, want), "%s: %s not in output: %s", c->rule, want, out);
	ck_assert_msg(!*c->secret || !strstr(out, c->secret), "%s: secret survived: %s", c->rule, out);
	ck_assert_uint_ge(counts[rule_index(r, c->rule)], 1);
	free(counts);
	free(out);
	sk_redactor_free(r);
}
END_TEST

START_TEST(test_rule_negative)
{
	const struct rule_case *c = &cases[_i];
	sk_redactor *r = shipped();
	char *out = redact(r, c->negative, NULL);
	ck_assert_msg(!strcmp(out, c->negative), "%s: negative changed: %s", c->rule, out);
	free(out);
	sk_redactor_free(r);
}
END_TEST

START_TEST(test_lookalike)
{
	sk_redactor *r = shipped();
	char *out = redact(r, lookalikes[_i], NULL);
	ck_assert_msg(!strcmp(out, lookalikes[_i]), "look-alike changed: %s", out);
	free(out);
	sk_redactor_free(r);
}
END_TEST

/* Every rule in the file has a case here, and there are at least 40. */
START_TEST(test_every_rule_has_cases)
{
	sk_redactor *r = shipped();
	size_t n = 0;
	for (size_t i = 0; i < sk_redactor_rule_count(r); i++) {
		const char *name = sk_redactor_rule_name(r, i);
		bool found = false;
		for (size_t k = 0; k < SK_ARRAY_LEN(cases); k++)
			found |= !strcmp(cases[k].rule, name);
		ck_assert_msg(found, "rule %s has no test case", name);
		n++;
	}
	ck_assert_uint_ge(n, 40);
	sk_redactor_free(r);
}
END_TEST

/* The second build comes from the cache and behaves the same. */
START_TEST(test_cache_warm)
{
	sk_redactor *a = shipped(), *b = shipped();
	sk_redact_info ia, ib;
	sk_redactor_info(a, &ia);
	sk_redactor_info(b, &ib);
	ck_assert(ib.cache_hit);
	ck_assert_uint_eq(ia.n_rules, ib.n_rules);
	for (size_t k = 0; k < SK_ARRAY_LEN(cases); k += 7) {
		char *x = redact(a, cases[k].positive, NULL), *y = redact(b, cases[k].positive, NULL);
		ck_assert_str_eq(x, y);
		free(x);
		free(y);
	}
	sk_redactor_free(a);
	sk_redactor_free(b);
}
END_TEST

static void remove_cache(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", cache_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", cache_dir);
}

int main(void)
{
	if (!mkdtemp(cache_dir))
		return 1;
	Suite *s = suite_create("redact_rules");
	TCase *tc = tcase_create("rules");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_every_rule_has_cases);
	tcase_add_test(tc, test_cache_warm);
	tcase_add_loop_test(tc, test_rule_positive, 0, (int)SK_ARRAY_LEN(cases));
	tcase_add_loop_test(tc, test_rule_negative, 0, (int)SK_ARRAY_LEN(cases));
	tcase_add_loop_test(tc, test_lookalike, 0, (int)SK_ARRAY_LEN(lookalikes));
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	remove_cache();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
