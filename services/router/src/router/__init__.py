"""Switchyard's router: the routing-rules language and the Kinesis router Lambda.

``router.rules`` is the public face of the rules language (the console imports
it to validate and dry-run documents); ``router.handler.handler`` is the Lambda.
"""
