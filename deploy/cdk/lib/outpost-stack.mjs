// OutpostStack: the runbook's "Outpost v2 (ECS Fargate via ALB)" shape (docs: README "The
// runbook on ECS"):
//
//   VPC (new, or an existing one by its attributes: never a lookup) -> ECS cluster outpost-{env}
//   -> the control plane as the Fargate service outpost-control-plane behind an internet-facing
//   ALB (HTTPS with the certificate given at deploy time; HTTP redirects; target group health
//   check GET /health/live, 200) -> one task definition per agent, family outpost-{env}-{agent},
//   container named after the agent, image from context, run by the control plane's `ecs`
//   runner with RunTask;
//   DynamoDB tables outpost-{env}-* exactly as src/store/dynamodb creates them (keys, GSIs,
//   TTL on expires_at), an S3 bucket for artifacts with a retention lifecycle rule, Secrets
//   Manager secrets outpost/{env}/<NAME> for the agents' keys (read by the control plane, which
//   hands them to a run over the run channel: the agent task definitions carry none), log
//   groups /outpost/control-plane and /outpost/agents/{agent}.
//
// IAM, least privilege: the control plane's task role may RunTask only the agents' task
// definitions (in this cluster), Stop/Describe only this cluster's tasks, PassRole only the
// agents' task and execution roles (to ECS), read only the outpost/{env}/ secrets, and use only
// its tables and bucket. The agents' task roles have no policy at all: a run's container can
// touch neither DynamoDB nor S3 (it uploads to presigned URLs) nor Secrets Manager.
import cdk from 'aws-cdk-lib';
import { NagSuppressions } from 'cdk-nag';

const {
  Stack, Duration, RemovalPolicy, CfnParameter, CfnOutput, Fn,
  aws_ec2: ec2, aws_ecs: ecs, aws_elasticloadbalancingv2: elbv2, aws_dynamodb: dynamodb,
  aws_s3: s3, aws_iam: iam, aws_logs: logs, aws_secretsmanager: secretsmanager,
} = cdk;

// The secret each coding agent needs (src/config/options.cc DefaultCodingAgents), and the git
// token every clone of github.com uses.
export const AGENT_SECRETS = {
  claude: 'ANTHROPIC_API_KEY',
  codex: 'OPENAI_API_KEY',
  gemini: 'GEMINI_API_KEY',
  aider: 'DEEPSEEK_API_KEY',
  grok: 'XAI_API_KEY',
};
export const SHARED_SECRETS = ['GITHUB_TOKEN'];

// The tables of a dynamodb://outpost-{env} store (src/store/dynamodb/dynamodb_schema.h,
// dynamodb_auth_store.h): name suffix, keys, GSIs (all projected ALL but key-hash), TTL.
export const TABLES = [
  { suffix: 'runs', pk: ['id', 'S'], ttl: true,
    gsis: [['all-newest', 'kind', 'id'], ['tenant-newest', 'tenant', 'id'],
           ['status-newest', 'status', 'id'], ['group-newest', 'group_id', 'id']] },
  { suffix: 'idempotency', pk: ['key', 'S'], ttl: true },
  { suffix: 'replicas', pk: ['id', 'S'] },
  { suffix: 'quotas', pk: ['pk', 'S'], sk: ['sk', 'S'], ttl: true },
  { suffix: 'audit', pk: ['tenant', 'S'], sk: ['id', 'S'], ttl: true,
    gsis: [['all-newest', 'kind', 'id']] },
  { suffix: 'events', pk: ['run_id', 'S'], sk: ['first_seq', 'N'], ttl: true },
  { suffix: 'tenants', pk: ['id', 'S'] },
  { suffix: 'api-keys', pk: ['key_id', 'S'], keysOnlyGsis: [['key-hash', 'hash']] },
];
export const TTL_ATTRIBUTE = 'expires_at';

// Names: the ALB's is outpost-control-plane-{env}, at most 32 characters.
const ENV_RE = /^[a-z][a-z0-9-]{0,9}$/;
const NAME_RE = /^[a-z][a-z0-9-]{0,15}$/;

// The stack's properties from CDK context (`-c key=value` or cdk.json); a clear error for a
// bad value.
export function propsFromContext(get) {
  const env = String(get('env') ?? 'dev');
  if (!ENV_RE.test(env)) throw new Error(`context env: "${env}" must match ${ENV_RE}`);
  let agents = get('agents') ?? Object.keys(AGENT_SECRETS);
  if (typeof agents === 'string') agents = agents.split(',').map((a) => a.trim()).filter(Boolean);
  for (const a of agents) {
    if (!NAME_RE.test(a)) throw new Error(`context agents: "${a}" must match ${NAME_RE}`);
  }
  const images = get('images') ?? {};
  const retentionDays = Number(get('retentionDays') ?? 30);
  if (!Number.isInteger(retentionDays) || retentionDays < 1 || retentionDays > 36500) {
    throw new Error('context retentionDays: must be an integer from 1 to 36500');
  }
  const desiredCount = Number(get('controlPlaneDesiredCount') ?? 2);
  if (!Number.isInteger(desiredCount) || desiredCount < 0 || desiredCount > 50) {
    throw new Error('context controlPlaneDesiredCount: must be an integer from 0 to 50');
  }
  const vpcId = get('vpcId');
  let existingVpc;
  if (vpcId) {
    const list = (key) => {
      const v = get(key);
      const out = Array.isArray(v) ? v : String(v ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      if (out.length === 0) throw new Error(`context ${key}: required with vpcId (no lookups: give the attributes)`);
      return out;
    };
    existingVpc = {
      vpcId,
      availabilityZones: list('availabilityZones'),
      publicSubnetIds: list('publicSubnetIds'),
      privateSubnetIds: list('privateSubnetIds'),
    };
  }
  const imagePrefix = String(get('imagePrefix') ?? 'outpost-');
  const imageTag = String(get('imageTag') ?? 'latest');
  const imageFor = (name) => images[name] ?? `${imagePrefix}${name}:${imageTag}`;
  return {
    env,
    agents,
    controlPlaneImage: imageFor('control-plane'),
    agentImages: Object.fromEntries(agents.map((a) => [a, imageFor(a)])),
    retentionDays,
    desiredCount,
    existingVpc,
  };
}

export class OutpostStack extends Stack {
  constructor(scope, id, props) {
    super(scope, id, { description: `Outpost ${props.env}: the control plane on ECS Fargate behind an ALB` });
    const { env, agents } = props;
    const prefix = `outpost-${env}`;
    const secretPrefix = `outpost/${env}/`;

    // ---- deploy-time parameters
    const certificateArn = new CfnParameter(this, 'CertificateArn', {
      type: 'String',
      description: 'ACM certificate ARN of the HTTPS listener (the name of PublicUrl)',
      allowedPattern: '^arn:aws[a-z-]*:acm:.+',
    });
    const publicUrl = new CfnParameter(this, 'PublicUrl', {
      type: 'String',
      description: 'How clients and the agents\' tasks reach the control plane (https://outpost.example.com); its DNS name must point at the ALB',
      allowedPattern: '^https://[A-Za-z0-9.-]+(:[0-9]+)?$',
    });
    const allowedCidr = new CfnParameter(this, 'AllowedCidr', {
      type: 'String',
      description: 'Who may reach the ALB (HTTPS). The agents\' tasks reach it through the NAT gateways\' addresses: include them.',
      default: '0.0.0.0/0',
      allowedPattern: '^[0-9]{1,3}(\\.[0-9]{1,3}){3}/[0-9]{1,2}$',
    });

    // ---- network
    let vpc;
    if (props.existingVpc) {
      vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', props.existingVpc);
    } else {
      vpc = new ec2.Vpc(this, 'Vpc', {
        maxAzs: 2,
        natGateways: 2,
        subnetConfiguration: [
          { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
          { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
        ],
      });
      const flowLogGroup = new logs.LogGroup(this, 'VpcFlowLogs', {
        logGroupName: `/outpost/${env}/vpc-flow-logs`,
        retention: logs.RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      vpc.addFlowLog('FlowLog', { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup) });
    }
    const privateSubnets = vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS });

    const albSg = new ec2.SecurityGroup(this, 'AlbSecurityGroup', {
      vpc, description: 'Outpost ALB: HTTPS (and HTTP, redirected) from AllowedCidr', allowAllOutbound: false,
    });
    albSg.addIngressRule(ec2.Peer.ipv4(allowedCidr.valueAsString), ec2.Port.tcp(443), 'HTTPS');
    albSg.addIngressRule(ec2.Peer.ipv4(allowedCidr.valueAsString), ec2.Port.tcp(80), 'HTTP -> HTTPS redirect');
    const controlPlaneSg = new ec2.SecurityGroup(this, 'ControlPlaneSecurityGroup', {
      vpc, description: 'Outpost control plane: 8080 from the ALB only; HTTPS out (AWS APIs, GitHub)', allowAllOutbound: false,
    });
    controlPlaneSg.addIngressRule(albSg, ec2.Port.tcp(8080), 'from the ALB');
    controlPlaneSg.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'AWS APIs, git hosts');
    albSg.addEgressRule(controlPlaneSg, ec2.Port.tcp(8080), 'to the control plane');
    const agentSg = new ec2.SecurityGroup(this, 'AgentSecurityGroup', {
      vpc,
      description: 'Outpost agent tasks: no inbound; HTTPS out only (the control plane through the ALB, the model API, git hosts)',
      allowAllOutbound: false,
    });
    agentSg.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS: run channel, model API, git');

    // ---- state: DynamoDB, S3, Secrets Manager
    const tables = {};
    for (const t of TABLES) {
      const attr = ([name, type]) => ({
        name, type: type === 'N' ? dynamodb.AttributeType.NUMBER : dynamodb.AttributeType.STRING,
      });
      const table = new dynamodb.Table(this, `Table-${t.suffix}`, {
        tableName: `${prefix}-${t.suffix}`,
        partitionKey: attr(t.pk),
        sortKey: t.sk ? attr(t.sk) : undefined,
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: dynamodb.TableEncryption.AWS_MANAGED,
        timeToLiveAttribute: t.ttl ? TTL_ATTRIBUTE : undefined,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      for (const [indexName, hash, range] of t.gsis ?? []) {
        table.addGlobalSecondaryIndex({
          indexName,
          partitionKey: { name: hash, type: dynamodb.AttributeType.STRING },
          sortKey: { name: range, type: dynamodb.AttributeType.STRING },
          projectionType: dynamodb.ProjectionType.ALL,
        });
      }
      for (const [indexName, hash] of t.keysOnlyGsis ?? []) {
        table.addGlobalSecondaryIndex({
          indexName,
          partitionKey: { name: hash, type: dynamodb.AttributeType.STRING },
          projectionType: dynamodb.ProjectionType.KEYS_ONLY,
        });
      }
      tables[t.suffix] = table;
    }

    const accessLogs = new s3.Bucket(this, 'AccessLogsBucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.OBJECT_WRITER,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    NagSuppressions.addResourceSuppressions(accessLogs, [{
      id: 'AwsSolutions-S1',
      reason: 'This bucket receives the server access logs of the artifacts bucket and the ALB\'s access logs; logging its own access would recurse.',
    }]);
    const artifacts = new s3.Bucket(this, 'ArtifactsBucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'artifacts-bucket/',
      // The retention of finished runs' outputs (Outpost's retention_days): S3 expires them.
      lifecycleRules: [{
        id: 'outpost-retention',
        expiration: Duration.days(props.retentionDays),
        abortIncompleteMultipartUploadAfter: Duration.days(1),
      }],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const secretNames = [...new Set([...agents.map((a) => AGENT_SECRETS[a]).filter(Boolean), ...SHARED_SECRETS])];
    const secrets = {};
    for (const name of secretNames) {
      // No value: created empty, the operator puts it (`aws secretsmanager put-secret-value`).
      // Until then GetSecretValue answers ResourceNotFoundException and Outpost reports the
      // agent unavailable (missing secret) rather than running it with a made-up key.
      const secret = new secretsmanager.CfnSecret(this, `Secret-${name}`, {
        name: `${secretPrefix}${name}`,
        description: `Outpost ${env}: ${name} (the value is put by the operator)`,
      });
      secret.applyRemovalPolicy(RemovalPolicy.RETAIN);
      NagSuppressions.addResourceSuppressions(secret, [{
        id: 'AwsSolutions-SMG4',
        reason: 'A third-party API key (model provider, GitHub) is rotated at its issuer, not by a Secrets Manager rotation Lambda; Outpost re-reads it within [secrets] cache_ttl after the operator puts a new value.',
      }]);
      secrets[name] = secret;
    }

    // ---- logs
    const controlPlaneLogs = new logs.LogGroup(this, 'ControlPlaneLogs', {
      logGroupName: '/outpost/control-plane',
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const agentLogs = {};
    for (const agent of agents) {
      agentLogs[agent] = new logs.LogGroup(this, `AgentLogs-${agent}`, {
        logGroupName: `/outpost/agents/${agent}`,
        retention: logs.RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.RETAIN,
      });
    }

    // ---- ECS
    const cluster = new ecs.Cluster(this, 'Cluster', {
      clusterName: prefix,
      vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });

    // Pulling the images: the registry login (no resource-level permission exists for it) and
    // the outpost-* repositories of this account.
    const pullPolicy = (role) => {
      role.addToPrincipalPolicy(new iam.PolicyStatement({
        actions: ['ecr:GetAuthorizationToken'],
        resources: ['*'],
      }));
      role.addToPrincipalPolicy(new iam.PolicyStatement({
        actions: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'],
        resources: [Stack.of(this).formatArn({ service: 'ecr', resource: 'repository', resourceName: 'outpost-*' })],
      }));
    };

    // The agents: one task definition each, no environment and no secrets in it (RunTask's
    // overrides carry the run id, the control plane's URL and a one-use bootstrap token; the
    // rest comes over the run channel).
    const agentExecutionRole = new iam.Role(this, 'AgentExecutionRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'Outpost agent tasks: pull the image, write /outpost/agents/*',
    });
    pullPolicy(agentExecutionRole);
    const agentTaskRoles = {};
    const agentTaskDefinitions = {};
    for (const agent of agents) {
      const taskRole = new iam.Role(this, `AgentTaskRole-${agent}`, {
        assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
        description: `Outpost ${agent} runs: no AWS permissions (outputs go to presigned URLs)`,
      });
      const small = agent === 'aider';
      const td = new ecs.FargateTaskDefinition(this, `AgentTask-${agent}`, {
        family: `${prefix}-${agent}`,
        cpu: small ? 512 : 1024,
        memoryLimitMiB: small ? 1024 : 2048,
        taskRole,
        executionRole: agentExecutionRole,
        runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
      });
      td.addContainer(agent, {
        containerName: agent,
        image: ecs.ContainerImage.fromRegistry(props.agentImages[agent]),
        essential: true,
        logging: ecs.LogDrivers.awsLogs({ logGroup: agentLogs[agent], streamPrefix: 'run' }),
      });
      agentTaskRoles[agent] = taskRole;
      agentTaskDefinitions[agent] = td;
    }

    // The control plane.
    const controlPlaneRole = new iam.Role(this, 'ControlPlaneTaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'Outpost control plane: its tables, its bucket, its secrets, and the agents\' tasks',
    });
    // One statement for every table and its indexes (eight grantReadWriteData calls would
    // overflow the role's inline policy).
    controlPlaneRole.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'OutpostTables',
      actions: [
        'dynamodb:DescribeTable', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem',
        'dynamodb:DeleteItem', 'dynamodb:Query', 'dynamodb:Scan',
        'dynamodb:BatchWriteItem',
      ],
      resources: Object.values(tables).flatMap((t) => [t.tableArn, `${t.tableArn}/index/*`]),
    }));
    artifacts.grantReadWrite(controlPlaneRole);
    artifacts.grantDelete(controlPlaneRole);
    controlPlaneRole.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'ReadOutpostSecrets',
      actions: ['secretsmanager:GetSecretValue'],
      resources: [Stack.of(this).formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: `${secretPrefix}*`, arnFormat: cdk.ArnFormat.COLON_RESOURCE_NAME })],
    }));
    const clusterCondition = { ArnEquals: { 'ecs:cluster': cluster.clusterArn } };
    controlPlaneRole.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'RunAgentTasks',
      actions: ['ecs:RunTask'],
      resources: agents.map((a) => Stack.of(this).formatArn({ service: 'ecs', resource: 'task-definition', resourceName: `${prefix}-${a}:*` })),
      conditions: clusterCondition,
    }));
    const clusterTasks = Stack.of(this).formatArn({ service: 'ecs', resource: 'task', resourceName: `${prefix}/*` });
    controlPlaneRole.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'TrackAndStopAgentTasks',
      actions: ['ecs:StopTask', 'ecs:DescribeTasks'],
      resources: [clusterTasks],
      conditions: clusterCondition,
    }));
    controlPlaneRole.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'TagAgentTasksAtLaunch',
      actions: ['ecs:TagResource'],
      resources: [clusterTasks],
      conditions: { StringEquals: { 'ecs:CreateAction': 'RunTask' } },
    }));
    controlPlaneRole.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'ListTasksForAdoption',
      actions: ['ecs:ListTasks'],
      resources: ['*'],
      conditions: clusterCondition,
    }));
    controlPlaneRole.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'PassAgentRoles',
      actions: ['iam:PassRole'],
      resources: [agentExecutionRole.roleArn, ...agents.map((a) => agentTaskRoles[a].roleArn)],
      conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
    }));

    const controlPlaneExecutionRole = new iam.Role(this, 'ControlPlaneExecutionRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'Outpost control plane task: pull the image, write /outpost/control-plane',
    });
    pullPolicy(controlPlaneExecutionRole);
    const controlPlaneTd = new ecs.FargateTaskDefinition(this, 'ControlPlaneTask', {
      family: `${prefix}-control-plane`,
      cpu: 1024,
      memoryLimitMiB: 2048,
      taskRole: controlPlaneRole,
      executionRole: controlPlaneExecutionRole,
      runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });
    // The control plane's configuration (README "Configuration": each OUTPOST_* variable is a
    // config key). No secret among them: the agents' keys are read from Secrets Manager.
    const environment = {
      OUTPOST_LISTEN: '0.0.0.0:8080',
      OUTPOST_DATA_DIR: '/var/lib/outpost',
      OUTPOST_STORE: `dynamodb://${prefix}`,
      OUTPOST_ARTIFACTS: `s3://${artifacts.bucketName}`,
      OUTPOST_PUBLIC_URL: publicUrl.valueAsString,
      OUTPOST_RETENTION_DAYS: String(props.retentionDays),
      OUTPOST_LOG_FORMAT: 'json',
      OUTPOST_SECRETS_BACKEND: 'aws-secretsmanager',
      OUTPOST_SECRETS_PREFIX: secretPrefix,
      // The ecs runner (issue 21 item 1): where and what it launches.
      OUTPOST_RUNNER: 'ecs',
      OUTPOST_ECS_CLUSTER: cluster.clusterArn,
      OUTPOST_ECS_SUBNETS: Fn.join(',', privateSubnets.subnetIds),
      OUTPOST_ECS_SECURITY_GROUPS: agentSg.securityGroupId,
      OUTPOST_ECS_ASSIGN_PUBLIC_IP: 'DISABLED',
      OUTPOST_ECS_TASK_DEFINITION_PREFIX: `${prefix}-`,
      AWS_REGION: Stack.of(this).region,
    };
    // No OUTPOST_INSECURE: behind the ALB the server must have API keys (create one before
    // the service's first start: README "The runbook on ECS"). Open mode would also refuse the
    // ALB's health checks, whose Host is the task's own address (http/host_guard.h).
    controlPlaneTd.addContainer('control-plane', {
      containerName: 'control-plane',
      image: ecs.ContainerImage.fromRegistry(props.controlPlaneImage),
      essential: true,
      portMappings: [{ containerPort: 8080, protocol: ecs.Protocol.TCP }],
      environment,
      logging: ecs.LogDrivers.awsLogs({ logGroup: controlPlaneLogs, streamPrefix: 'control-plane' }),
      stopTimeout: Duration.seconds(60),  // drain_seconds (25) + shutdown_grace_seconds (10) + margin
    });
    NagSuppressions.addResourceSuppressions(controlPlaneTd, [{
      id: 'AwsSolutions-ECS2',
      reason: 'The environment holds the control plane\'s non-secret configuration (table prefix, bucket, cluster, subnets, log format); every secret is read from Secrets Manager at run time.',
    }]);

    const service = new ecs.FargateService(this, 'ControlPlaneService', {
      serviceName: 'outpost-control-plane',
      cluster,
      taskDefinition: controlPlaneTd,
      desiredCount: props.desiredCount,
      assignPublicIp: false,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [controlPlaneSg],
      circuitBreaker: { rollback: true },
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      healthCheckGracePeriod: Duration.seconds(60),
    });

    // ---- the ALB
    const alb = new elbv2.ApplicationLoadBalancer(this, 'Alb', {
      loadBalancerName: `outpost-control-plane-${env}`,
      vpc,
      internetFacing: true,
      securityGroup: albSg,
      dropInvalidHeaderFields: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      // Server-sent events (/runs/{id}/events) stay open; the server sends a heartbeat every
      // events_heartbeat_ms (15 s).
      idleTimeout: Duration.seconds(120),
    });
    // Access logs to the access-logs bucket. ALB.logAccessLogs needs a region at synth time;
    // this stack has none, so the ELB log-delivery account of the deploy region comes from the
    // CDK's region table as a CloudFormation mapping (regions launched after August 2022 use
    // the service principal logdelivery.elasticloadbalancing.amazonaws.com instead: granted too).
    alb.setAttribute('access_logs.s3.enabled', 'true');
    alb.setAttribute('access_logs.s3.bucket', accessLogs.bucketName);
    alb.setAttribute('access_logs.s3.prefix', 'alb');
    const albLogObjects = accessLogs.arnForObjects(`alb/AWSLogs/${Stack.of(this).account}/*`);
    accessLogs.addToResourcePolicy(new iam.PolicyStatement({
      actions: ['s3:PutObject'],
      principals: [
        new iam.AccountPrincipal(Stack.of(this).regionalFact(cdk.region_info.FactName.ELBV2_ACCOUNT)),
        new iam.ServicePrincipal('logdelivery.elasticloadbalancing.amazonaws.com'),
      ],
      resources: [albLogObjects],
    }));
    alb.node.addDependency(accessLogs);
    const targetGroup = new elbv2.ApplicationTargetGroup(this, 'ControlPlaneTargets', {
      targetGroupName: `${prefix}-cp`,  // the runbook finds it by "outpost" in its name
      vpc,
      port: 8080,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.IP,
      healthCheck: {
        path: '/health/live',
        healthyHttpCodes: '200',
        interval: Duration.seconds(15),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 3,
      },
      // A replica being replaced drains for drain_seconds (25 s) first.
      deregistrationDelay: Duration.seconds(30),
    });
    service.attachToApplicationTargetGroup(targetGroup);
    alb.addListener('Https', {
      port: 443,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      certificates: [elbv2.ListenerCertificate.fromArn(certificateArn.valueAsString)],
      sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
      defaultTargetGroups: [targetGroup],
      open: false,
    });
    alb.addListener('Http', {
      port: 80,
      protocol: elbv2.ApplicationProtocol.HTTP,
      defaultAction: elbv2.ListenerAction.redirect({ protocol: 'HTTPS', port: '443', permanent: true }),
      open: false,
    });

    // ---- justified findings
    NagSuppressions.addResourceSuppressions(albSg, [{
      id: 'AwsSolutions-EC23',
      reason: 'The ALB is the public API of Outpost (the runbook\'s endpoint); who may reach it is the AllowedCidr parameter, 0.0.0.0/0 by default because the agents\' tasks come through NAT gateways and clients from anywhere. Requests are authenticated by API keys.',
    }]);
    NagSuppressions.addResourceSuppressions(controlPlaneRole, [{
      id: 'AwsSolutions-IAM5',
      reason: 'Wildcards, each bounded: the GSIs of Outpost\'s own tables (<table>/index/*, granted by grantReadWriteData); the objects of its own bucket (grantReadWrite); the secrets under outpost/<env>/ (a dispatch names its additionalSecrets at run time); any revision of the agents\' task definitions (RunTask by family); this cluster\'s tasks (task/outpost-<env>/*, whose ids are made at launch); ecs:ListTasks, which has no resource-level permission, limited to this cluster by condition.',
      appliesTo: [
        { regex: '/^Resource::<Table.*\\.Arn>/index/\\*$/' },
        { regex: '/^Resource::<ArtifactsBucket.*\\.Arn>/\\*$/' },
        { regex: '/^Action::s3:.*\\*$/' },
        { regex: '/^Resource::arn:<AWS::Partition>:secretsmanager:.*\\*$/' },
        { regex: '/^Resource::arn:<AWS::Partition>:ecs:.*\\*$/' },
        'Resource::*',
      ],
    }], true);
    for (const role of [agentExecutionRole, controlPlaneExecutionRole]) {
      NagSuppressions.addResourceSuppressions(role, [{
        id: 'AwsSolutions-IAM5',
        reason: 'ecr:GetAuthorizationToken has no resource-level permission (Resource *); image pulls are limited to the account\'s outpost-* repositories.',
        appliesTo: ['Resource::*', { regex: '/^Resource::arn:<AWS::Partition>:ecr:.*:repository/outpost-\\*$/' }],
      }], true);
    }

    // ---- what the runbook and the operator read
    new CfnOutput(this, 'AlbDnsName', { value: alb.loadBalancerDnsName, description: 'point PublicUrl\'s name here' });
    new CfnOutput(this, 'ClusterName', { value: cluster.clusterName });
    new CfnOutput(this, 'ServiceName', { value: service.serviceName });
    new CfnOutput(this, 'TargetGroupArn', { value: targetGroup.targetGroupArn });
    new CfnOutput(this, 'ArtifactsBucketName', { value: artifacts.bucketName });
    new CfnOutput(this, 'StoreUrl', { value: `dynamodb://${prefix}` });
    new CfnOutput(this, 'SecretNames', { value: secretNames.map((n) => `${secretPrefix}${n}`).join(',') });

    this.tables = tables;
    this.artifacts = artifacts;
    this.cluster = cluster;
    this.service = service;
    this.targetGroup = targetGroup;
    this.controlPlaneRole = controlPlaneRole;
    this.agentTaskRoles = agentTaskRoles;
    this.agentTaskDefinitions = agentTaskDefinitions;
    this.agentExecutionRole = agentExecutionRole;
  }
}
