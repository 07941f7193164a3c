{#
  Seeds on a session connection. dbt-spark's spark__load_csv_rows passes the
  values as bindings, and its session cursor puts each one between quotes
  without escaping it: a value holding a quote ("Can't Lose Them") breaks the
  insert and an empty cell becomes the text 'None'. Here every value is
  written as a Spark literal: null, a number, true/false, or a string with
  its backslashes and quotes escaped.
#}
{% macro spark_local__load_csv_rows(model, agate_table) %}
  {%- set column_override = model['config'].get('column_types', {}) -%}
  {%- set statements = [] -%}
  {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
    {%- set sql -%}
      insert into {{ this.render() }} values
      {% for row in chunk -%}
        ({%- for col_name in agate_table.column_names -%}
          {%- set column_type = column_override.get(col_name, adapter.convert_type(agate_table, loop.index0)) -%}
          cast({{ spark_local_seed_literal(row[loop.index0]) }} as {{ column_type }})
          {%- if not loop.last %},{% endif -%}
        {%- endfor -%})
        {%- if not loop.last %},{% endif %}
      {% endfor -%}
    {%- endset -%}
    {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
    {%- if loop.first -%}{%- do statements.append(sql) -%}{%- endif -%}
  {%- endfor -%}
  {{ return(statements[0]) }}
{% endmacro %}

{% macro spark_local_seed_literal(value) -%}
  {%- if value is none -%} null
  {%- elif value is sameas true -%} true
  {%- elif value is sameas false -%} false
  {%- elif value is number -%} {{ value }}
  {%- else -%} '{{ value | string | replace("\\", "\\\\") | replace("'", "\\'") }}'
  {%- endif -%}
{%- endmacro %}
