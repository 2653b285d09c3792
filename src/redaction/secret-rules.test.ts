// True- and false-positive samples from gitleaks (cmd/generate/config/rules/*.go, MIT).
import { describe, expect, it } from 'vitest';
import { FakeData, seededRandom } from '../../test/redaction-corpus/fake-secrets.js';
import { PII_TYPES, SECRET_TYPES, type DetectorType } from './detector.js';
import { createTextRedactor } from './text-redactor.js';

const secretsOnly = createTextRedactor(new Set<DetectorType>(SECRET_TYPES));
const everything = createTextRedactor(new Set<DetectorType>([...SECRET_TYPES, ...PII_TYPES]));

function typesIn(text: string): string[] {
  return secretsOnly.findings(text).map((f) => f.type);
}

/** The secret must be fully inside one finding of the expected type. */
function expectRedacted(text: string, secret: string, type: DetectorType): void {
  const at = text.indexOf(secret);
  const hit = secretsOnly.findings(text).find((f) => f.start <= at && f.end >= at + secret.length);
  expect(hit?.type, `${type} in ${text.slice(0, 60)}`).toBe(type);
}

const GITLEAKS_TRUE_POSITIVES: [DetectorType, string, string?][] = [
  [
    'openai_key',
    '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',
  ],
  [
    'openai_key',
    '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',
  ],
  [
    'openai_key',
    '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',
  ],
  [
    'anthropic_key',
    'sk-ant-api03-abc123xyz-456def789ghij-klmnopqrstuvwx-3456yza789bcde-1234fghijklmnopby56aaaogaopaaaabc123xyzAA',
  ],
  [
    'anthropic_key',
    'sk-ant-admin01-abc12fake-456def789ghij-klmnopqrstuvwx-3456yza789bcde-12fakehijklmnopby56aaaogaopaaaabc123xyzAA',
  ],
  ['aws_access_key', 'AKIALALEMEL33243OLIB'],
  ['slack_token', 'xoxb-781236542736-2364535789652-GkwFDQoHqzXDVsC6GzqYUypD'],
  ['slack_token', 'xoxb-263594206564-FGqddMF8t08v8N7Oq4i57vs1'],
  ['slack_token', 'xoxp-41684372915-1320496754-45609968301-e708ba56e1517a99f6b5fb07349476ef'],
  [
    'slack_token',
    'xapp-1-A052FGTS2DL-5171572773297-610b6a11f4b7eb819e87b767d80e6575a3634791acb9a9ead051da879eb5b55e',
  ],
  ['slack_token', 'xoxs-416843729158-132049654-5609968301-e708ba56e1'],
  ['slack_token', 'xoxa-2-511111111-31111111111-3111111111111-e039d02840a0b9379c'],
  [
    'slack_token',
    'xoxe.xoxp-1-Mi0yLTM0MTQwNDE0MDE3Ni0zNjU5NDY0Njg4MTctNTE4MjA3NTQ5NjA4MC01NDEyOTYyODY5NzUxLThhMTBjZmI1ZWIzMGIwNTg0ZDdmMDI5Y2UxNzVlZWVhYzU2ZWQyZTZiODNjNDZiMGUxMzRlNmNjNDEwYmQxMjQ',
  ],
  ['google_api_key', 'AIzaSyNHxIf32IQ1a1yjl3ZJIqKZqzLAK1XhDk-'],
  [
    'jwt',
    'eyJhbGciOieeeiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwic3ViZSI6IjEyMzQ1Njc4OTAiLCJuYW1lZWEiOiJKb2huIERvZSIsInN1ZmV3YWZiIjoiMTIzNDU2Nzg5MCIsIm5hbWVmZWF3ZnciOiJKb2huIERvZSIsIm5hbWVhZmV3ZmEiOiJKb2huIERvZSIsInN1ZndhZndlYWIiOiIxMjM0NTY3ODkwIiwibmFtZWZ3YWYiOiJKb2huIERvZSIsInN1YmZ3YWYiOiIxMjM0NTY3ODkwIiwibmFtZndhZSI6IkpvaG4gRG9lIiwiaWZ3YWZhYXQiOjE1MTYyMzkwMjJ9.a_5icKBDo-8EjUlrfvz2k2k-FYaindQ0DEYNrlsnRG0',
  ],
  [
    'private_key',
    '-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8QuKUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQJAIJLixBy2qpFoS4DSmoEmo3qGy0t6z09AIJtH+5OeRV1be+N4cDYJKffGzDa88vQENZiRm0GRq6a+HPGQMd2kTQIhAKMSvzIBnni7ot/OSie2TmJLY4SwTQAevXysE2RbFDYdAiEBCUEaRQnMnbp79mxDXDf6AU0cN/RPBjb9qSHDcWZHGzUCIG2Es59z8ugGrDY+pxLQnwfotadxd+Uyv/Ow5T0q5gIJAiEAyS4RaI9YG8EWx/2w0T67ZUVAw8eOMB6BIUg0Xcu+3okCIBOs/5OiPgoTdSy7bcF9IGpSE8ZgGKzgYQVZeN97Y==\n-----END RSA PRIVATE KEY-----',
  ],
  // generic-api-key / database-password samples: [type, line, secret]
  ['generic_secret', `'access_token': 'eyJ0eXAioiJKV1slS3oASx=='`, 'eyJ0eXAioiJKV1slS3oASx=='],
  [
    'generic_secret',
    `"credentials" : "0afae57f3ccfd9d7f5767067bc48b30f719e271ba470488056e37ab35d4b6506"`,
    '0afae57f3ccfd9d7f5767067bc48b30f719e271ba470488056e37ab35d4b6506',
  ],
  [
    'generic_secret',
    `"client_secret" : "6da89121079f83b2eb6acccf8219ea982c3d79bccc3e9c6a85856480661f8fde",`,
    '6da89121079f83b2eb6acccf8219ea982c3d79bccc3e9c6a85856480661f8fde',
  ],
  [
    'generic_secret',
    `"user_auth": "am9obmRvZTpkMDY5NGIxYi1jMTcxLTQ4ODYt+TMyYS0wMmUwOWQ1/mIwNjc="`,
    'am9obmRvZTpkMDY5NGIxYi1jMTcxLTQ4ODYt+TMyYS0wMmUwOWQ1/mIwNjc=',
  ],
  [
    'generic_secret',
    ` utils.GetEnvOrDefault("api_token", "dafa7817-e246-48f3-91a7-e87653d587b8")`,
    'dafa7817-e246-48f3-91a7-e87653d587b8',
  ],
  ['generic_secret', 'mySecretString=Zf3D0LXCM3EIMbgJpUNnkRtOfOueHznB', 'Zf3D0LXCM3EIMbgJpUNnkRtOfOueHznB'],
  ['password', 'DB_PASSWORD=Lp9!vQz@4Xr7$Tn8m', 'Lp9!vQz@4Xr7$Tn8m'],
  ['password', 'pwd = Qm7xTz2LpW9vNb4KcR8s', 'Qm7xTz2LpW9vNb4KcR8s'],
];

const GITLEAKS_FALSE_POSITIVES = [
  // openai / anthropic
  'sk-ant-api03-abc123xyz-456de-klMnopqrstuvwx-3456yza789bcde-1234fghijklmnopAA',
  'sk-ant-api03-abc123xyz-456def789ghij-klmnopqrstuvwx-3456yza789bcde-1234fghijklmnopby56aaaogaopaaaabc123xyzBB',
  `anthropic_token = "sk-ant-oat01-tooShort"`,
  // aws
  'key = AKIAXXXXXXXXXXXXXXXX',
  'aws_access_key: AKIAIOSFODNN7EXAMPLE',
  'msgstr "Näytä asiakirjamallikansio."',
  'TODAYINASIAASACKOFRICEFELLOVER',
  // gcp
  'GWw4hjABFzZCGiRpmlDyDdo87Jn9BN9THUA47muVRNunLxsa82tMAdvmrhOqNkRKiYMEAFbTJAIzaTesb6Tscfcni8vIpWZqNCXFDFslJtVSvFDq',
  'AIzaTesb6Tscfcni8vIpWZqNCXFDFslJtVSvFDqabcd123',
  'apiKey: "AIzaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"',
  'AIZASYCO2CXRMC9ELSKLHLHRMBSWDEVEDZTLO2O',
  'AIzaSyabcdefghijklmnopqrstuvwxyz1234567',
  'AIzaSyAnLA7NfeLquW1tJFpx_eQCxoX-oo6YyIs',
  // slack
  'xoxb-xxxxxxxxx-xxxxxxxxxx-xxxxxxxxxxxx',
  'xoxb-xxx',
  'xoxb-12345-abcd234',
  'xoxb-xoxb-my-bot-token',
  'https://docs.google.com/document/d/1W7KCxOxP-1Fy5EyF2lbJGE2WuKmu5v0suYqoHas1jRM',
  '"token1": "xoxp-1234567890"',
  '"token2": "xoxp-XXXXXXXXXX-XXXXXXXXXX-XXXXXXXXXXX-XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"',
  '"token3": "xoxp-1234-1234-1234-4ddbc191d40ee098cbaae6f3523ada2d"',
  '"token4": "xoxp-572370529330-573807301142-572331691188-####################"',
  'xoxe.xoxp-1-SlackAppConfigurationAccessTokenHere',
  'xoxe.xoxp-1-RANDOMSTRINGHERE',
  'xoxe-1-xxx',
  'XOxE-RROAmw, Home and Garden, 5:24, 20120323',
  'xoxb-Slack_BOT_TOKEN',
  'https://github.com/xoxa-nyc/xoxa-nyc.github.io/blob/master/README.md',
  'https://indieweb.org/images/3/35/2018-250-xoxo-indieweb-1.jpg',
  // database-password
  'DB_PASSWORD=[value]',
  'somepwd=XXXXXXXXXXXXXXX',
  // generic-api-key
  'client_vpn_endpoint_id = aws_ec2_client_vpn_endpoint.client-vpn-endpoint.id',
  'password combination.\n\nR5: Regulatory--21',
  '"accessor":"rA1wk0Y45YCufyfq",',
  'report_access_id: e8e4df51-2054-49b0-ab1c-516ac95c691d',
  'accessibilityYesOptionId = "0736f5ef-7e88-499a-80cc-90c85d2a5180"',
  'this.ultraPictureBox1.Name = "ultraPictureBox1";',
  'COMMUNICATION_API_VERSION=rc0.13.0_20230412_0712-SNAPSHOT',
  'MantleAPI_version=9a038989604e8da62ecddbe2094b16ce1b778be1',
  'apiUrl=apigee.corpint.com',
  'X-API-Name": "NRG0-Hermes-INTERNAL-API",',
  'author = "james.fake@ymail.com",',
  'X-MS-Exchange-Organization-AuthSource: sm02915.int.contoso.com',
  'Authentication-Results: 5h.ca.iphmx.com',
  "withCredentials([usernamePassword(credentialsId: '29f63271-dc2f-4734-8221-5b31b5169bac', usernameVariable: 'USERNAME', passwordVariable: 'PASSWORD')]) {",
  "credentialsId: 'ff083f76-7804-4ef1-80e4-fe975bb9141b'",
  "jobCredentialsId: 'f4aeb6bc-2a25-458a-8111-9be9e502c0e7'",
  '  "credentialId": "B9mTcFSck2LzJO2S3ols63",',
  'environment {\n\tCREDENTIALS_ID = "K8S_CRED"\n}',
  'dev.credentials.url=dev-lb1.api.f4ke.com:5215',
  'keyword: "Befaehigung_P2"',
  'public_key = "9Cnzj4p4WGeKLs1Pt8QuKUpRKfFLfRYC9AIKjbJTWit"',
  'PuttyPassword=0',
  'LLM_SECRET_NAME = "NEXUS-GPT4-API-KEY"',
  '  <UserSecretsId>79a3edd0-2092-40a2-a04d-dcb46d5ca9ed</UserSecretsId>',
  'secret_length = X25519.secret_length',
  'secretSize must be >= XXH3_SECRET_SIZE_MIN',
  '# get build time secret for authentication\n#RUN --mount=type=secret,id=jfrog_secret \\\n#    JFROG_SECRET = $(cat /run/secrets/jfrog_secret) && \\',
  "    access_token_url='https://github.com/login/oauth/access_token',",
  'publicToken = "9Cnzj4p4WGeKLs1Pt8QuKUpRKfFLfRYC9AIKjbJTWit"',
  '<SourceFile SourceLocation="F:\\Extracts\\" TokenFile="RTL_INST_CODE.cer">',
  'notes            = "Maven - io.jsonwebtoken:jjwt-jackson-0.11.2"',
  'csrf-token=Mj2qykJO5rELyHgezQ69nzUX0i3OH67V7+V4eUrLfpuyOuxmiW9rhROG/Whikle15syazJOkrjJa3U2AbhIvUw==',
  'clientId = "73082700-1f09-405b-80d0-3131bfd6272d"',
  'GITHUB_API_KEY=\nDYNATRACE_API_KEY=',
  'snowflake.password=\njdbc.snowflake.url=',
  ',apiKey:"6fe4476ee5a1832882e326b506d14126",',
  "import { chain_Anvil1_Key, chain_Anvil2_Key } from '../blockchain-tests/pallets/supported-chains/consts';",
  'SRCREV_moby = "43fc912ef59a83054ea7f6706df4d53a7dea4d80"',
];

describe('secret rules on gitleaks samples', () => {
  it.each(GITLEAKS_TRUE_POSITIVES)('finds %s in sample %#', (type, sample, secret) => {
    expectRedacted(sample, secret ?? sample, type);
  });

  it.each(GITLEAKS_FALSE_POSITIVES.map((s) => [s]))('keeps false positive %#', (sample) => {
    expect(typesIn(sample)).toEqual([]);
  });

  it("finds the gitleaks samples wrapped in the generators' assignment contexts", () => {
    for (const [type, sample, secret] of GITLEAKS_TRUE_POSITIVES) {
      if (secret !== undefined) continue;
      for (const line of [
        `key = "${sample}"`,
        `export KEY=${sample}`,
        `{"k": "${sample}"}`,
        `k: '${sample}';`,
      ]) {
        expectRedacted(line, sample, type);
      }
    }
  });

  it('finds random keys of every format (as gitleaks generates them)', () => {
    const fake = new FakeData(seededRandom(7));
    const makers: [DetectorType, () => string][] = [
      ['openai_key', () => fake.openaiKey()],
      ['anthropic_key', () => fake.anthropicKey()],
      ['aws_access_key', () => fake.awsAccessKey()],
      ['github_token', () => fake.githubToken()],
      ['slack_token', () => fake.slackToken()],
      ['google_api_key', () => fake.googleApiKey()],
      ['stripe_key', () => fake.stripeKey()],
      ['jwt', () => fake.jwt()],
      ['private_key', () => fake.privateKey()],
    ];
    for (const [type, make] of makers) {
      for (let i = 0; i < 50; i++) {
        const secret = make();
        expectRedacted(`Here: ${secret} (rotate it)`, secret, type);
      }
    }
  });

  it('redacts only the password of a connection string', () => {
    const r = secretsOnly.redact(
      'DATABASE_URL=postgresql://app_user:Xk9-pL2q@db.internal:5432/orders?sslmode=require',
    );
    expect(r.text).toBe(
      'DATABASE_URL=postgresql://app_user:[REDACTED:db_password]@db.internal:5432/orders?sslmode=require',
    );
    expect(
      secretsOnly.redact('mongodb+srv://svc:${MONGO_PASSWORD}@cluster0.example.net/db').redactions,
    ).toEqual([]);
    expect(secretsOnly.redact('ssh://git@github.com/org/repo.git').redactions).toEqual([]);
  });

  it('takes the credential, not the scheme, of an Authorization header', () => {
    const r = secretsOnly.redact('Authorization: Bearer 9f8e7d6c5b4a39281706abcdefABCDEF');
    expect(r.text).toBe('Authorization: Bearer [REDACTED:generic_secret]');
  });

  it('prefers the specific type when a generic assignment holds a known key', () => {
    const key = new FakeData(seededRandom(3)).openaiKey();
    expect(secretsOnly.redact(`OPENAI_API_KEY=${key}`).text).toBe('OPENAI_API_KEY=[REDACTED:openai_key]');
  });

  it('is idempotent: redacting redacted text changes nothing', () => {
    const fake = new FakeData(seededRandom(11));
    const text = `password=${fake.password()} key ${fake.openaiKey()} mail ${fake.email()}`;
    const once = everything.redact(text).text;
    expect(everything.redact(once)).toEqual({ text: once, redactions: [] });
  });
});
