"""The /user REST API: one profile per Cognito user, kept in DynamoDB."""
