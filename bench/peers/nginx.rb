version=2
# liblognorm v2 rulebase for the nginx combined format with $request_time, the same fields as
# logferry's nginx_combined (an X-Forwarded-For list before the address is taken as one field).
rule=:%client:string-to{"extradata":" - "}% - %user:word% [%time:char-to{"extradata":"]"}%] "%method:word% %url:word% HTTP/%proto:char-to{"extradata":"\""}%" %status:number% %bytes:word% "%referrer:char-to{"extradata":"\""}%" "%agent:char-to{"extradata":"\""}%" %rt:word%
