// module plan
