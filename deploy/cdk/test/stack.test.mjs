// The synthesized template of OutpostStack: the runbook's shape and its least-privilege IAM,
// asserted on the CloudFormation that `cdk synth` makes (aws-cdk-lib/assertions), with cdk-nag's
// AwsSolutions pack applied as bin/outpost.mjs applies it. The DynamoDB tables are also checked
// against the names in the C++ store (src/store/dynamodb), so that a renamed index breaks here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import cdk from 'aws-cdk-lib';
import { Template, Match, Annotations } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { OutpostStack, propsFromContext, TABLES, AGENT_SECRETS } from '../lib/outpost-stack.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../..');
const AGENTS = ['claude', 'codex', 'gemini', 'aider', 'grok'];

function synth(context = {}) {
  const app = new cdk.App({ context: { env: 'dev', imagePrefix: '123456789012.dkr.ecr.us-east-1.amazonaws.com/outpost-', ...context } });
  const props = propsFromContext((k) => app.node.tryGetContext(k));
  const stack = new OutpostStack(app, `outpost-${props.env}`, props);
  cdk.Aspects.of(app).add(new AwsSolutionsChecks());
  app.synth();
  return { stack, template: Template.fromStack(stack) };
}

const { stack, template } = synth();
const resources = (type) => Object.entries(template.findResources(type));
const statementsOf = (policy) => policy.Properties.PolicyDocument.Statement;
const ref = (logicalIdPrefix) => Match.objectLike({ Ref: Match.stringLikeRegexp(`^${logicalIdPrefix}`) });

test('cdk-nag AwsSolutions: no unsuppressed error or warning, every suppression has a reason', () => {
  const errors = Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*'));
  assert.deepEqual(errors.map((e) => `${e.id}: ${e.entry.data}`), []);
  const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*'));
  assert.deepEqual(warnings.map((e) => `${e.id}: ${e.entry.data}`), []);
  let suppressions = 0;
  for (const [, r] of Object.entries(template.toJSON().Resources)) {
    for (const s of r.Metadata?.cdk_nag?.rules_to_suppress ?? []) {
      suppressions++;
      assert.ok(s.reason && s.reason.length >= 40, `suppression ${s.id} has no real reason`);
    }
  }
  assert.ok(suppressions > 0);
});

test('cdk-nag is live: an unjustified wildcard grant is an error', () => {
  const app = new cdk.App();
  const bad = new cdk.Stack(app, 'bad');
  const role = new cdk.aws_iam.Role(bad, 'R', { assumedBy: new cdk.aws_iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
  role.addToPrincipalPolicy(new cdk.aws_iam.PolicyStatement({ actions: ['dynamodb:*'], resources: ['*'] }));
  cdk.Aspects.of(app).add(new AwsSolutionsChecks());
  app.synth();
  const errors = Annotations.fromStack(bad).findError('*', Match.stringLikeRegexp('AwsSolutions-IAM5.*'));
  assert.ok(errors.length > 0);
});

test('the stack is environment-agnostic (synth needs no account or region)', () => {
  assert.equal(cdk.Token.isUnresolved(stack.account), true);
  assert.equal(cdk.Token.isUnresolved(stack.region), true);
});

test('ECS cluster outpost-dev and the service outpost-control-plane on Fargate', () => {
  template.hasResourceProperties('AWS::ECS::Cluster', {
    ClusterName: 'outpost-dev',
    ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
  });
  template.hasResourceProperties('AWS::ECS::Service', {
    ServiceName: 'outpost-control-plane',
    LaunchType: 'FARGATE',
    DesiredCount: 2,
    NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'DISABLED' }) },
    DeploymentConfiguration: Match.objectLike({ DeploymentCircuitBreaker: { Enable: true, Rollback: true } }),
  });
});

test('the ALB: target group health check /health/live 200, HTTPS with the certificate parameter, HTTP redirected', () => {
  template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
    Name: 'outpost-control-plane-dev',
    Scheme: 'internet-facing',
  });
  template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
    Name: 'outpost-dev-cp',
    HealthCheckPath: '/health/live',
    Matcher: { HttpCode: '200' },
    Port: 8080,
    TargetType: 'ip',
  });
  template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
    Port: 443,
    Protocol: 'HTTPS',
    Certificates: [{ CertificateArn: { Ref: 'CertificateArn' } }],
  });
  template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
    Port: 80,
    DefaultActions: [Match.objectLike({ Type: 'redirect', RedirectConfig: Match.objectLike({ Protocol: 'HTTPS' }) })],
  });
  template.hasParameter('CertificateArn', { Type: 'String' });
});

test('a task definition outpost-dev-{agent} per agent, container named after it, its image, its log group, no environment or secrets', () => {
  for (const agent of AGENTS) {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Family: `outpost-dev-${agent}`,
      RequiresCompatibilities: ['FARGATE'],
      NetworkMode: 'awsvpc',
      ContainerDefinitions: [Match.objectLike({
        Name: agent,
        Image: `123456789012.dkr.ecr.us-east-1.amazonaws.com/outpost-${agent}:latest`,
        LogConfiguration: Match.objectLike({ Options: Match.objectLike({ 'awslogs-group': ref(`AgentLogs${agent}`) }) }),
        Environment: Match.absent(),
        Secrets: Match.absent(),
      })],
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: `/outpost/agents/${agent}` });
  }
  template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/outpost/control-plane' });
});

test('DynamoDB tables as the C++ store names them, with their GSIs and the TTL on expires_at', () => {
  const schema = fs.readFileSync(path.join(repo, 'src/store/dynamodb/dynamodb_schema.h'), 'utf8') +
    fs.readFileSync(path.join(repo, 'src/store/dynamodb/dynamodb_schema.cc'), 'utf8') +
    fs.readFileSync(path.join(repo, 'src/store/dynamodb/dynamodb_auth_store.h'), 'utf8') +
    fs.readFileSync(path.join(repo, 'src/store/dynamodb/dynamodb_auth_store.cc'), 'utf8');
  assert.match(schema, /kExpiresAt = "expires_at"/);
  for (const t of TABLES) {
    assert.ok(schema.includes(`"-${t.suffix}"`), `the C++ store has no table suffix -${t.suffix}`);
    for (const [index] of [...(t.gsis ?? []), ...(t.keysOnlyGsis ?? [])]) {
      assert.ok(schema.includes(`"${index}"`), `the C++ store has no index ${index}`);
    }
    const keys = [{ AttributeName: t.pk[0], KeyType: 'HASH' }];
    if (t.sk) keys.push({ AttributeName: t.sk[0], KeyType: 'RANGE' });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: `outpost-dev-${t.suffix}`,
      KeySchema: keys,
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: t.ttl ? { AttributeName: 'expires_at', Enabled: true } : Match.absent(),
      GlobalSecondaryIndexes: (t.gsis || t.keysOnlyGsis)
        ? [...(t.gsis ?? []).map(([n, h, r]) => Match.objectLike({
            IndexName: n,
            KeySchema: [{ AttributeName: h, KeyType: 'HASH' }, { AttributeName: r, KeyType: 'RANGE' }],
            Projection: { ProjectionType: 'ALL' },
          })), ...(t.keysOnlyGsis ?? []).map(([n, h]) => Match.objectLike({
            IndexName: n, KeySchema: [{ AttributeName: h, KeyType: 'HASH' }], Projection: { ProjectionType: 'KEYS_ONLY' },
          }))]
        : Match.absent(),
    });
  }
  const runs = resources('AWS::DynamoDB::Table').find(([, r]) => r.Properties.TableName === 'outpost-dev-runs');
  assert.deepEqual(runs[1].Properties.GlobalSecondaryIndexes.map((g) => g.IndexName).sort(),
    ['all-newest', 'group-newest', 'status-newest', 'tenant-newest']);
  assert.equal(runs[1].DeletionPolicy, 'Retain');
});

test('the artifacts bucket: private, TLS only, expires objects after the retention', () => {
  template.hasResourceProperties('AWS::S3::Bucket', {
    LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Id: 'outpost-retention', Status: 'Enabled', ExpirationInDays: 30 })]) },
    PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    LoggingConfiguration: Match.objectLike({ DestinationBucketName: Match.anyValue() }),
  });
  const other = synth({ retentionDays: 7 }).template;
  other.hasResourceProperties('AWS::S3::Bucket', {
    LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Id: 'outpost-retention', ExpirationInDays: 7 })]) },
  });
});

test('a Secrets Manager secret outpost/dev/<NAME> per agent key (and GITHUB_TOKEN), created without a made-up value', () => {
  for (const agent of AGENTS) {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: `outpost/dev/${AGENT_SECRETS[agent]}`,
      GenerateSecretString: Match.absent(),
      SecretString: Match.absent(),
    });
  }
  template.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'outpost/dev/GITHUB_TOKEN' });
});

function rolePolicies(roleLogicalPrefix) {
  return resources('AWS::IAM::Policy').filter(([, p]) =>
    p.Properties.Roles.some((r) => r.Ref && r.Ref.startsWith(roleLogicalPrefix)));
}

test('control plane IAM: RunTask only the agents\' task definitions in this cluster, PassRole only their roles', () => {
  const statements = rolePolicies('ControlPlaneTaskRole').flatMap(([, p]) => statementsOf(p));
  const run = statements.filter((s) => [].concat(s.Action).includes('ecs:RunTask'));
  assert.equal(run.length, 1);
  const runResources = run[0].Resource.map((r) => JSON.stringify(r));
  assert.equal(runResources.length, AGENTS.length);
  for (const agent of AGENTS) {
    assert.ok(runResources.some((r) => r.includes(`:task-definition/outpost-dev-${agent}:*`)), agent);
  }
  assert.ok(run[0].Condition.ArnEquals['ecs:cluster']);
  const stop = statements.find((s) => [].concat(s.Action).includes('ecs:StopTask'));
  assert.match(JSON.stringify(stop.Resource), /:task\/outpost-dev\/\*/);
  assert.ok(stop.Condition.ArnEquals['ecs:cluster']);

  const pass = statements.filter((s) => [].concat(s.Action).includes('iam:PassRole'));
  assert.equal(pass.length, 1);
  const passed = pass[0].Resource.map((r) => r['Fn::GetAtt'][0]);
  const expected = ['AgentExecutionRole', ...AGENTS.map((a) => `AgentTaskRole${a}`)];
  assert.equal(passed.length, expected.length, passed.join(' '));
  for (const e of expected) assert.equal(passed.filter((p) => p.startsWith(e)).length, 1, e);
  assert.deepEqual(pass[0].Condition, { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } });

  // No action of any service is granted on "*" except the two that have no resource level.
  for (const s of statements) {
    if ([].concat(s.Resource).includes('*')) assert.deepEqual([].concat(s.Action), ['ecs:ListTasks']);
    assert.ok(![].concat(s.Action).some((a) => a.endsWith(':*')), JSON.stringify(s.Action));
  }
  const secrets = statements.find((s) => s.Sid === 'ReadOutpostSecrets');
  assert.deepEqual(secrets.Action, 'secretsmanager:GetSecretValue');
  assert.match(JSON.stringify(secrets.Resource), /:secret:outpost\/dev\/\*/);
});

test('agent tasks may not touch DynamoDB (nor anything else): their task roles have no policy', () => {
  for (const agent of AGENTS) {
    assert.deepEqual(rolePolicies(`AgentTaskRole${agent}`), [], agent);
    const [, role] = resources('AWS::IAM::Role').find(([id]) => id.startsWith(`AgentTaskRole${agent}`));
    assert.equal(role.Properties.Policies, undefined);
    assert.equal(role.Properties.ManagedPolicyArns, undefined);
  }
  const exec = rolePolicies('AgentExecutionRole').flatMap(([, p]) => statementsOf(p));
  for (const s of exec) {
    for (const a of [].concat(s.Action)) assert.match(a, /^(ecr|logs):/, `execution role: ${a}`);
  }
});

test('the control plane logs JSON lines and is configured for the deployed shape', () => {
  const [, td] = resources('AWS::ECS::TaskDefinition').find(([, r]) => r.Properties.Family === 'outpost-dev-control-plane');
  const c = td.Properties.ContainerDefinitions[0];
  const env = Object.fromEntries(c.Environment.map((e) => [e.Name, e.Value]));
  assert.equal(env.OUTPOST_LOG_FORMAT, 'json');
  assert.equal(env.OUTPOST_STORE, 'dynamodb://outpost-dev');
  assert.equal(env.OUTPOST_SECRETS_BACKEND, 'aws-secretsmanager');
  assert.equal(env.OUTPOST_SECRETS_PREFIX, 'outpost/dev/');
  assert.equal(env.OUTPOST_LISTEN, '0.0.0.0:8080');
  assert.deepEqual(env.OUTPOST_PUBLIC_URL, { Ref: 'PublicUrl' });
  assert.equal(env.OUTPOST_INSECURE, undefined);
  assert.equal(c.Secrets, undefined);
  assert.deepEqual(c.PortMappings, [{ ContainerPort: 8080, Protocol: 'tcp' }]);
});

test('an existing VPC by its attributes (no lookup) replaces the new one', () => {
  const { template: t } = synth({
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZones: 'us-east-1a,us-east-1b',
    publicSubnetIds: 'subnet-a1,subnet-b1',
    privateSubnetIds: 'subnet-a2,subnet-b2',
  });
  t.resourceCountIs('AWS::EC2::VPC', 0);
  t.hasResourceProperties('AWS::ECS::Service', {
    NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ Subnets: ['subnet-a2', 'subnet-b2'] }) },
  });
  assert.throws(() => synth({ vpcId: 'vpc-1' }), /availabilityZones: required with vpcId/);
});

test('bad context values are refused with the key named', () => {
  assert.throws(() => synth({ env: 'Prod!' }), /context env/);
  assert.throws(() => synth({ env: 'much-too-long' }), /context env/);  // the ALB name's limit
  assert.throws(() => synth({ retentionDays: 0 }), /context retentionDays/);
  assert.throws(() => synth({ agents: 'claude,Bad Name' }), /context agents/);
});
