// The CDK app: one environment-agnostic OutpostStack (no account or region: `cdk synth` needs
// no AWS credentials and makes no lookups), checked by cdk-nag's AwsSolutions pack — an
// unsuppressed finding fails the synth. Inputs are context values (cdk.json has the defaults;
// `cdk synth -c env=prod -c imagePrefix=123456789012.dkr.ecr.us-east-1.amazonaws.com/outpost-`)
// and two CloudFormation parameters given at deploy time (the certificate, the allowed CIDR).
import cdk from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { OutpostStack, propsFromContext } from '../lib/outpost-stack.mjs';

const app = new cdk.App();
const props = propsFromContext((key) => app.node.tryGetContext(key));
new OutpostStack(app, `outpost-${props.env}`, props);
cdk.Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
app.synth();
